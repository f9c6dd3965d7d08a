// "Copy" buttons (a subscription's shown key, an application's client id and secret): copy the
// text to the clipboard. A key is in the page only after the developer pressed Show (a POST),
// never in a URL.
// Without the clipboard API (only a secure context has it: not a portal served over plain
// http by name) or when the browser refuses, the text is selected for the developer to copy.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const code = document.querySelector(`[data-key="${button.dataset.copy}"]`);
  if (!code) return;
  const select = () => {
    window.getSelection().selectAllChildren(code);
    button.textContent = "Selected: press Ctrl+C";
  };
  if (!navigator.clipboard) {
    select();
    return;
  }
  navigator.clipboard.writeText(code.textContent.trim()).then(() => {
    button.textContent = "Copied";
  }, select);
});
