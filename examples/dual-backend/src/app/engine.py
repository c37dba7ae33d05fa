from sglang.srt.server_args import ServerArgs


def server_args(model: str) -> ServerArgs:
    return ServerArgs(model_path=model, tp_size=2)
