# One answer to the exercise of 10_anatomy_of_a_message.ipynb: paste it into the exercise cell.
def parse_frames(blob: bytes) -> list[tuple[int, bytes]]:
    """(id, payload) of every message frame in ``blob``, in order."""
    pairs = []
    position = 0
    while position < len(blob):
        _, raw_id, _, _, headers_length, payload_length, _ = FRAME_HEADER.unpack_from(
            blob, position
        )
        payload_start = position + FRAME_HEADER.size
        pairs.append(
            (int.from_bytes(raw_id, "little"), blob[payload_start:payload_start + payload_length])
        )
        position = payload_start + payload_length + headers_length
    return pairs
