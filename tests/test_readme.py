"""README.ja.md is README.md in Japanese: every command of README.md's shell blocks appears in it word for word, and
each links to the other, so the two cannot drift apart unnoticed."""

import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
# A trailing comment (`cmd   # what it does`) may be translated; the command before it may not.
TRAILING_COMMENT = re.compile(r"\s+#\s.*$")


def command_lines(markdown: str) -> list[str]:
    """The command lines of the ```bash blocks, without trailing comments, blank lines or comment-only lines."""
    lines = []
    for language, body in FENCE.findall(markdown):
        if language in ("bash", "sh", "shell"):
            lines += [TRAILING_COMMENT.sub("", line).rstrip() for line in body.splitlines()]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_command_lines_are_found_with_comments_cut():
    markdown = "x\n```bash\n# comment\npip install a   # why\n\ncurl 'u#v'\n```\n```python\nimport os\n```\n"
    assert command_lines(markdown) == ["pip install a", "curl 'u#v'"]


def test_every_readme_command_is_in_the_japanese_readme():
    english = (ROOT / "README.md").read_text(encoding="utf-8")
    japanese = (ROOT / "README.ja.md").read_text(encoding="utf-8")
    commands = command_lines(english)
    assert len(commands) > 20
    japanese_commands = set(command_lines(japanese))
    assert [command for command in commands if command not in japanese_commands] == []


def test_the_readmes_link_to_each_other():
    assert "[日本語](README.ja.md)" in (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "[English](README.md)" in (ROOT / "README.ja.md").read_text(encoding="utf-8").split("\n## ")[0]
