// "Copy" buttons on a subscription page: copy the shown key to the clipboard. The key is in
// the page only after the developer pressed Show (a POST), never in a URL.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const code = document.querySelector(`[data-key="${button.dataset.copy}"]`);
  if (!code || !navigator.clipboard) return;
  navigator.clipboard.writeText(code.textContent.trim()).then(() => {
    button.textContent = "Copied";
  });
});
