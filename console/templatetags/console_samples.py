"""`{% request_sample as sample %}`: the operation page's request sample (see console/samples)."""

from __future__ import annotations

from django import template

from apis.documents import schema_document
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
        # Only the schemas the sample needs, row by row: never the whole document.
        schema_document(version.pk),
        signed_in=request.user.is_authenticated,
    )
