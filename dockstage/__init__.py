"""dockstage: build, test and ship a Django + MySQL app in containers, driven by python-on-whales."""

STAGES: tuple[str, ...] = ("dev", "test", "stage", "prod")
"""The Dockerfile's stages, in build order; `FROM ... AS <stage>` uses these names."""

__all__ = ["STAGES"]
