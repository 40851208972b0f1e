def pairs(
    block: bytes,
    prefix: bytes,
    middle: bytes,
    start: bytes,
    canonical: bytes,
    input_limit: int,
    output_limit: int,
    good_first: bytes,
    /,
) -> tuple[bytes, int, bool] | None: ...
