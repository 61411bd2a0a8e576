"""Helper (prod image): import every installed app and the URLconf; print the parameterless URLs.

`python urllist.py` in the app dir, under the image's settings: django.setup() imports each app of
INSTALLED_APPS (and its models), the root URLconf is imported with every include, and each URL that
reverses without arguments is printed as one JSON list. A failure to import is the traceback and a
non-zero exit: the suite's image check reads it (and names the pruned path behind a missing module).
"""

import contextlib
import json
import sys

import django


def parameterless() -> list[str]:
    """Every URL that reverses without arguments: the root URLconf's own (named or not) and the
    named ones of namespaced includes (the admin's), by their full name."""
    from django.urls import NoReverseMatch, get_resolver, reverse

    resolver = get_resolver()
    paths: set[str] = set()
    for key in list(resolver.reverse_dict):
        for possibilities, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(key):
            paths.update("/" + (result % {}) for result, params in possibilities if not params)
    pending = [("", resolver)]
    while pending:
        namespace, current = pending.pop()
        for name in [k for k in current.reverse_dict if isinstance(k, str)] if namespace else []:
            with contextlib.suppress(NoReverseMatch):
                paths.add(reverse(f"{namespace}{name}"))
        pending += [(f"{namespace}{ns}:", sub) for ns, (_prefix, sub) in current.namespace_dict.items()]
    return sorted(paths)


if __name__ == "__main__":
    sys.path.insert(0, ".")
    django.setup()
    print(json.dumps(parameterless()))
