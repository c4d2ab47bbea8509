import pandas as pd

from retention_ml.snapshots import make_snapshots, month_starts


def _workers():
    D = pd.Timestamp
    return pd.DataFrame({"worker_id": ["A", "B", "C", "D"], "team_id": ["T", "T", "U", "U"],
                         "start_date": [D("2024-01-01"), D("2023-05-10"), D("2023-01-01"), D("2024-03-01")],
                         "end_date": [pd.NaT, D("2024-02-01"), D("2024-01-31"), pd.NaT]})


def test_in_post_rule():
    s = make_snapshots(_workers(), month_starts("2024-01", "2024-03"))
    got = set(zip(s["worker_id"], s["as_of"].dt.strftime("%m")))
    # A starts ON 2024-01-01 -> not in post that day; B ends ON 2024-02-01 -> still in post that day;
    # C ended 2024-01-31 -> gone on 02-01; D starts 03-01 -> not in post on 03-01
    assert got == {("A", "02"), ("A", "03"), ("B", "01"), ("B", "02"), ("C", "01")}
    assert list(s.columns) == ["worker_id", "as_of", "team_id"]


def test_matches_bruteforce():
    w = _workers()
    dates = month_starts("2022-12", "2024-06")
    s = make_snapshots(w, dates)
    cart = w.merge(pd.DataFrame({"as_of": dates}), how="cross")
    keep = (cart["start_date"] < cart["as_of"]) & (cart["end_date"].isna() | (cart["end_date"] >= cart["as_of"]))
    brute = cart.loc[keep, ["worker_id", "as_of"]].sort_values(["as_of", "worker_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(s[["worker_id", "as_of"]], brute, check_dtype=False)
