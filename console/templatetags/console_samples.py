"""`{% request_sample as sample %}`: the operation page's request sample (see console/samples)."""

from __future__ import annotations

from django import template

from apis.documents import load_document
from console.samples import RequestSample
from console.samples import request_sample as build

register = template.Library()


@register.simple_tag(takes_context=True)
def request_sample(context: template.Context) -> RequestSample:
    request = context["request"]
    version = context["version"]
    return build(
        context["api"],
        version,
        context["operation"],
        load_document(version.pk),
        signed_in=request.user.is_authenticated,
    )
