"""The sglang compat shim: sglang N and N-1 are supported; each fallback says when it goes."""

try:
    from sglang.srt.server_args import ServerArgs
except ImportError:
    # Fallback for sglang <= 0.5.8. Remove when min supported version is 0.5.9+
    from sglang.srt.server_args_legacy import ServerArgs

__all__ = ["ServerArgs"]
