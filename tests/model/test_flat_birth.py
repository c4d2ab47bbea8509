"""Flat extracts: a date-of-birth column (what HR systems export instead of an age) is audited as age bands at
the extract's date (flat.as_of), and is never a model input (reviewer S10-A F19)."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.experiment import experiment_from_dict
from retention_ml.flat import flat_frame

MAPPING = {"label": "Left", "protected": ["DateOfBirth"]}


def _extract(births) -> pd.DataFrame:
    n = len(births)
    return pd.DataFrame({"DateOfBirth": births, "Caseload": np.arange(n) % 7 + 10,
                         "Left": np.where(np.arange(n) % 3 == 0, "Yes", "No")})


def test_a_date_of_birth_needs_the_extracts_date():
    with pytest.raises(ValueError, match=r"'DateOfBirth' holds dates of birth: set flat.as_of = \"YYYY-MM-DD\"(.|\n)*"
                                         r"or drop it with flat.drop"):
        flat_frame(_extract(["31/03/1999", "01/04/1999", "15/06/1970"]), MAPPING)


def test_a_date_of_birth_becomes_age_bands_at_the_extracts_date_and_no_input():
    # day first, as UK HR systems write it; the 25th birthday falls on the as_of date for the first person only
    births = ["31/03/1999", "01/04/1999", "15/06/1970", "", "02/01/1962"]
    ds = flat_frame(_extract(births), {**MAPPING, "as_of": "2024-03-31"})
    assert ds.keys["DateOfBirth"].tolist() == ["25_29", "under_25", "50_59", "not_known", "60_plus"]
    assert not [c for c in ds.X.columns if "Birth" in c]
    iso = flat_frame(_extract(["1999-03-31", "1999-04-01", "1970-06-15"]), {**MAPPING, "as_of": "2024-03-31"})
    assert iso.keys["DateOfBirth"].tolist() == ["25_29", "under_25", "50_59"]


def test_month_first_or_impossible_dates_are_refused_with_their_rows():
    with pytest.raises(ValueError, match=r"not every filled value is a date(.|\n)*row\(s\) 2 \(e.g. '03/31/1999'\)"):
        flat_frame(_extract(["12/03/1999", "03/31/1999", "15/06/1970"]), {**MAPPING, "as_of": "2024-03-31"})
    with pytest.raises(ValueError, match=r"ages outside 0-120 at flat.as_of = 2024-03-31 on row\(s\) 3"):
        flat_frame(_extract(["12/03/1999", "15/06/1970", "01/01/2025"]), {**MAPPING, "as_of": "2024-03-31"})


def test_as_of_is_a_date_key():
    import datetime as dt

    exp = experiment_from_dict({"name": "x", "kind": "flat", "data": {"path": "x.csv"},
                                "flat": {"label": "Left", "as_of": dt.date(2024, 3, 31)}})
    assert exp["flat"]["as_of"] == "2024-03-31"
