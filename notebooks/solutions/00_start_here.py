# One answer to the exercise of 00_start_here.ipynb: paste it into the exercise cell.
def versions_match(sdk_version: str, server_version: str) -> bool:
    """True when both versions share major and minor, e.g. 0.9.0 and 0.9.2-sandbox."""

    def major_minor(text: str) -> list[str]:
        return text.split("-")[0].split(".")[:2]

    return major_minor(sdk_version) == major_minor(server_version)
