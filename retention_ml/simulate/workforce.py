"""The monthly engine: posts filled, vacated and covered; cases, sickness, supervision, pay and leaving.

One Python loop over months; everything inside is vectorised over workers
(numpy arrays indexed by spell), teams (``np.bincount``) and posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retention_ml.simulate.config import NATIONAL, Scenario, year_fit_arrays
from retention_ml.simulate.councils import World, stratified_normal
from retention_ml.simulate.hazard import contributions, year_effect
from retention_ml.simulate.pay import AGENCY_DAYS, BAND_HIGH, BAND_LOW, pay_index, salary

__all__ = ["Simulation", "run_months"]

EMP_PERM, EMP_AGENCY, EMP_FT = 0, 1, 2
REASONS = ("resignation", "retirement", "dismissal", "end_of_contract", "internal_move", "other")
R_RES, R_RET, R_DIS, R_EOC, R_MOVE = 0, 1, 2, 3, 4
B0 = -5.66  # intercept of the monthly voluntary hazard (tuned so national turnover is ~15%)
SPILL = 0.5  # share of a vacant post's cases shared out among the team's case holders
RENEW_FT = 0.7  # share of fixed-term contracts renewed (for 12 months) when they end
COVERED_HIRE = 0.33  # a post covered by agency staff is filled permanently a third as fast (less urgency)
CP_SHARE = np.array([0.15, 0.45, 0.02, 0.0, 0.0, 0.10, 0.05])
CIC_SHARE = np.array([0.03, 0.10, 0.85, 0.30, 0.50, 0.15, 0.0])
COURT_SHARE = np.array([0.0, 0.10, 0.20, 0.0, 0.05, 0.02, 0.0])
CHURN = np.array([0.45, 0.10, 0.06, 0.06, 0.08, 0.06, 0.25])


class Pool:
    """Per-spell arrays that grow as people are hired."""

    def __init__(self, capacity: int):
        self.n = 0
        self.cap = capacity
        self.a: dict[str, np.ndarray] = {}

    def add(self, **cols) -> np.ndarray:
        k = len(next(iter(cols.values())))
        if not self.a:
            self.a = {name: np.zeros(self.cap, dtype=np.asarray(v).dtype) for name, v in cols.items()}
        while self.n + k > self.cap:
            self.cap *= 2
            for name, arr in self.a.items():
                grown = np.zeros(self.cap, dtype=arr.dtype)
                grown[: len(arr)] = arr
                self.a[name] = grown
        idx = np.arange(self.n, self.n + k)
        for name, v in cols.items():
            self.a[name][idx] = v
        self.n += k
        return idx

    def __getitem__(self, name):
        return self.a[name]


@dataclass
class Simulation:
    """Everything the engine produced; the writer turns it into tables."""

    world: World
    months: np.ndarray                     # datetime64[D] month starts
    workers: dict
    n_workers: int
    slot_occupant: np.ndarray
    slot_active: np.ndarray
    records: dict = field(default_factory=dict)


def _concat(parts):
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


def _new_people(rng, n, *, nqsw, start_dates):
    """Draw age, protected characteristics, qualification for n new spells."""
    age = np.where(nqsw, 22 + rng.gamma(2.0, 2.5, n), 27 + rng.gamma(2.5, 5.0, n))
    age = np.clip(age, 21, 64)
    years_q = np.where(nqsw, rng.uniform(0.05, 0.6, n), np.clip((age - 23) * rng.uniform(0.3, 0.9, n), 1, 40))
    qualified = start_dates - (years_q * 365.25).astype("timedelta64[D]")
    return dict(
        age0=age,
        sex=rng.choice(3, n, p=[0.85, 0.14, 0.01]).astype(np.int8),
        eth=rng.choice(6, n, p=[0.70, 0.05, 0.08, 0.11, 0.02, 0.04]).astype(np.int8),
        dis=rng.choice(3, n, p=[0.06, 0.84, 0.10]).astype(np.int8),
        qualified=qualified,
        frailty=rng.normal(0.0, 0.3, n),
        case_noise=np.exp(rng.normal(0.0, 0.12, n)),
        abs_prop=np.exp(rng.normal(0.0, 0.6, n)),
    )


def _commute(rng, n, same_area):
    minutes = np.where(same_area, 8 + rng.gamma(3.0, 6.0, n), 25 + rng.gamma(3.0, 11.0, n))
    minutes = np.round(np.clip(minutes, 3, 240), 0)
    mode = rng.choice(4, n, p=[0.55, 0.25, 0.10, 0.10]).astype(np.int8)
    mode = np.where((mode == 2) & (minutes > 30), 0, mode)
    speed = np.array([0.75, 0.5, 0.2, 0.6])[mode]  # km per minute
    km = np.round(np.clip(minutes * speed * rng.uniform(0.8, 1.2, n), 0.3, 400), 1)
    return minutes, km, mode


def run_months(world: World, scenario: Scenario, start: np.datetime64, n_months: int,
               rng: np.random.Generator, progress=None, year_fit: dict | None = None) -> Simulation:
    """Simulate ``n_months`` months from ``start`` (a month start, datetime64[D]).

    ``year_fit`` overrides :data:`~retention_ml.simulate.config.YEAR_FIT` (used when fitting it).
    """
    months = np.array([np.datetime64(start, "M") + i for i in range(n_months)]).astype("datetime64[D]")
    years = months.astype("datetime64[Y]").astype(int) + 1970
    mnum = months.astype("datetime64[M]").astype(int) % 12 + 1
    report_year = years + (mnum >= 10)
    policy_m = 0 if scenario.policy_start is None else int((np.datetime64(scenario.policy_start, "M") - np.datetime64(start, "M")).astype(int))
    n_c = world.n_councils
    n_t = len(world.team_council)

    # extra funded posts (scenario) are dormant posts that open at policy_start
    slot_team, slot_fte, slot_mgr = world.slot_team, world.slot_fte, world.slot_manager
    slot_active = np.ones(len(slot_team), bool)
    if scenario.extra_posts_share > 0:
        posts = np.bincount(slot_team, minlength=n_t)
        extra = np.round(posts * scenario.extra_posts_share).astype(int)
        et = np.repeat(np.arange(n_t), extra)
        slot_team = np.concatenate([slot_team, et])
        slot_fte = np.concatenate([slot_fte, np.ones(len(et))])
        slot_mgr = np.concatenate([slot_mgr, np.zeros(len(et), bool)])
        slot_active = np.concatenate([slot_active, np.zeros(len(et), bool)])
    # agency-only posts: locums engaged on top of the establishment (about a fifth of agency use
    # nationally is not vacancy cover: DfE agency cover rate ~80%); never filled permanently
    ag_only_share = np.clip(np.exp(stratified_normal(rng, np.log(0.02), 1.0, n_c)), 0, 0.15)
    extra_ag = rng.binomial(np.bincount(slot_team, minlength=n_t), ag_only_share[world.team_council])
    ea = np.repeat(np.arange(n_t), extra_ag)
    slot_agency_only = np.concatenate([np.zeros(len(slot_team), bool), np.ones(len(ea), bool)])
    slot_team = np.concatenate([slot_team, ea])
    slot_fte = np.concatenate([slot_fte, np.ones(len(ea))])
    slot_mgr = np.concatenate([slot_mgr, np.zeros(len(ea), bool)])
    slot_active = np.concatenate([slot_active, np.ones(len(ea), bool)])
    n_s = len(slot_team)
    team_area = world.team_area.copy()  # offices move during the run
    slot_council = world.team_council[slot_team]
    team_service = world.team_service
    team_holding_posts = np.bincount(slot_team, weights=slot_fte * (~slot_mgr) * slot_active * ~slot_agency_only, minlength=n_t)

    # council demand paths: national caseload trend x season x council drift x shocks
    # recruitment market: hiring is slower in years when councils' vacancy rates were high (DfE medians)
    nat_vac = np.array([NATIONAL[min(max(y, 2017), 2026)]["vacancy"] for y in report_year])
    market = year_fit_arrays(report_year, year_fit)
    hire_market = 15.5 / nat_vac * market["hire"]
    year_shift = year_effect(report_year, NATIONAL) + market["hazard"]
    nat_case = np.array([NATIONAL[min(max(y, 2017), 2026)]["caseload"] for y in report_year])
    season = 1 + 0.05 * np.sin(2 * np.pi * (mnum - 1) / 12)
    drift = np.exp(np.cumsum(rng.normal(0, 0.006, (n_months, n_c)), axis=0))
    shock = np.zeros((n_months, n_c))
    has = rng.random(n_c) < 0.25
    s_at = rng.integers(0, max(1, n_months - 6), n_c)
    size = rng.uniform(0.1, 0.4, n_c) * (rng.random(n_c) < 0.95) + 0.8 * (rng.random(n_c) < 0.05)
    tt = np.arange(n_months)[:, None] - s_at[None, :]
    shape = np.where(tt < 0, 0, np.where(tt < 6, tt / 6, np.exp(-(tt - 6) / 18)))
    shock += np.where(has, size, 0)[None, :] * shape
    if scenario.referral_shock and scenario.shock_start:
        m0 = int((np.datetime64(scenario.shock_start, "M") - np.datetime64(start, "M")).astype(int))
        t2 = np.arange(n_months) - m0
        shp = np.where(t2 < 0, 0, np.where(t2 < 6, t2 / 6, np.exp(-(t2 - 6) / 18)))
        k = min(scenario.shock_councils, n_c)
        shock[:, :k] += scenario.referral_shock * shp[:, None]
    demand = nat_case[:, None] * season[:, None] * world.council_demand[None, :] * drift * (1 + shock) * 1.05  # 1.05: agency-only posts share the cases

    # housing paths by area
    n_a = len(world.area_council)
    # growth comes in hot years (10-17%; far likelier in hot areas) rather than compounding for ever
    yrs = years - years[0]
    hot_year = rng.random((yrs.max() + 1, n_a)) < np.where(world.area_growth > 0.07, 0.35, 0.05)
    g_year = np.where(hot_year, rng.uniform(0.10, 0.17, hot_year.shape), np.clip(rng.normal(0.035, 0.015, hot_year.shape), -0.02, 0.08))
    g_month = (1 + g_year[yrs]) ** (1 / 12) - 1
    noise = rng.normal(0, 0.003, (n_months, n_a))
    h_index = np.exp(np.cumsum(np.log1p(g_month + noise), axis=0))
    rent = world.area_rent0[None, :] * h_index
    price = world.area_price0[None, :] * h_index
    first_area = np.searchsorted(world.area_council, np.arange(n_c))
    n_areas = np.bincount(world.area_council, minlength=n_c)

    # agency day rate by council and month: 1.5-2.0 x the daily rate of a mid-band worker
    c_premium = rng.uniform(1.5, 2.0, n_c)
    pidx = pay_index(years, mnum)
    mid_daily = salary(27, 1.0) / AGENCY_DAYS
    day_rate = np.round(mid_daily * pidx[:, None] * c_premium[None, :] * (1 + rng.normal(0, 0.01, (n_months, n_c))), 0)

    pool = Pool(int(n_s * (1.2 + 0.03 * n_months)))
    occupant = np.full(n_s, -1)
    rec = {k: [] for k in ("case", "absence", "truth", "sup", "pay", "commute", "exit")}

    def hire(slots, t, emp, start_dates, tenure_months=None, inherit=None):
        """New spells in ``slots``; ``inherit`` = earlier spells of the same people (internal moves)."""
        n = len(slots)
        team = slot_team[slots]
        serv = team_service[team]
        mgr = slot_mgr[slots]
        is_pa = (serv == 3) & ~mgr
        nqsw = (emp != EMP_AGENCY) & ~mgr & ~is_pa & (rng.random(n) < (0.45 if tenure_months is None and inherit is None else 0.0))
        r = rng.random(n)
        role = np.where(r < 0.68, 0, np.where(r < 0.9, 1, 2))
        role = np.where(nqsw, 0, role)
        role = np.where(is_pa, 4, np.where(mgr, 3, role))
        people = _new_people(rng, n, nqsw=nqsw, start_dates=start_dates)
        if tenure_months is not None:
            people["age0"] = np.maximum(21, people["age0"] - tenure_months / 12)
        unqualified = is_pa & (rng.random(n) < 0.6)
        if inherit is not None:  # the same person: characteristics, qualification and home carry over
            for key in ("sex", "eth", "dis", "qualified", "frailty", "case_noise", "abs_prop"):
                people[key] = pool[key][inherit]
            people["age0"] = pool["age0"][inherit] + (t - pool["start_m"][inherit]) / 12
            unqualified = np.isnat(pool["qualified"][inherit])
        lo, hi = BAND_LOW[role], BAND_HIGH[role]
        sp = np.where(nqsw, lo, lo + (rng.random(n) * (hi - lo + 1)).astype(int))
        sp = np.minimum(sp, hi)
        council = slot_council[slots]
        office = team_area[team]
        same = rng.random(n) < 0.6
        other = first_area[council] + (rng.random(n) * n_areas[council]).astype(int)
        home = np.where(same, office, other)
        if inherit is not None:
            home = pool["home"][inherit]
            sp = np.clip(pool["sp"][inherit], lo, hi)
        minutes, km, mode = _commute(rng, n, home == office)
        start_m = np.full(n, t) if tenure_months is None else t - tenure_months
        # fixed-term contracts run 12-24 months; staff already in post at the start are part-way through theirs
        contract_end = np.where(emp == EMP_FT, np.maximum(start_m, t) + rng.integers(12, 25, n) - (0 if tenure_months is None else rng.integers(0, 12, n)), 10**6)
        idx = pool.add(
            slot=slots, team=team, council=council, role=role.astype(np.int8), emp=np.asarray(emp, np.int8) * np.ones(n, np.int8),
            fte=slot_fte[slots], start=start_dates, start_m=start_m, end=np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            reason=np.full(n, -1, np.int8), voluntary=np.zeros(n, bool), asye=nqsw, unqualified=unqualified,
            home=home, office=office, minutes=minutes, km=km, mode=mode, sp=sp.astype(np.int16),
            since_prog=rng.integers(0, 40, n) if tenure_months is not None else np.zeros(n, int),
            since_sup=np.ones(n, int), life=np.zeros(n, np.int16), contract_end=contract_end,
            over=np.zeros(n, np.int16), over_hist=np.zeros(n, np.int32), abs1=np.zeros(n), abs2=np.zeros(n), abs3=np.zeros(n),
            **people,
        )
        pool.a["qualified"][idx] = np.where(unqualified, np.datetime64("NaT"), pool.a["qualified"][idx])
        occupant[slots] = idx
        tm = np.clip(np.searchsorted(months, start_dates, side="right") - 1, 0, n_months - 1)
        _pay_rows(idx, start_dates, tm)
        rec["commute"].append(dict(w=idx, date=start_dates, minutes=minutes, km=km, mode=mode))
        return idx

    def _pay_rows(idx, dates, tm):
        emp = pool["emp"][idx]
        agency = emp == EMP_AGENCY
        sal = salary(pool["sp"][idx], pay_index(years[tm], mnum[tm]))
        sal = np.where(agency, day_rate[tm, pool["council"][idx]] * AGENCY_DAYS, sal)
        supp, ret = _extras(idx, tm)
        rec["pay"].append(dict(w=idx, date=dates, band=np.where(agency, 5, pool["role"][idx]).astype(np.int8),
                               sp=np.where(agency, -1, pool["sp"][idx]), salary=sal, supp=np.where(agency, 0, supp),
                               ret=np.where(agency, 0, ret)))

    def _extras(idx, tm):
        team = pool["team"][idx]
        council = pool["council"][idx]
        hot = np.isin(team_service[team], (0, 1))
        on = tm >= policy_m
        supp = np.where(hot, world.council_supplement[council] + on * scenario.market_supplement, 0.0)
        ret = world.council_retention[council] + on * scenario.retention_payment
        ret = np.where(pool["role"][idx] == 3, 0.0, ret)
        return supp, ret

    def _internal_moves(movers, t):
        """Movers start a new spell in a vacant post of another team of their council (when one is free)."""
        cand = np.flatnonzero(slot_active & (occupant < 0) & ~slot_mgr & ~slot_agency_only)
        if len(movers) == 0 or len(cand) == 0:
            return
        # match the k-th mover of a council to the k-th (randomly ordered) vacant post of that council
        cc = slot_council[cand]
        cand = cand[np.lexsort((rng.random(len(cand)), cc))]
        cc = slot_council[cand]
        rank_v = np.arange(len(cand)) - np.searchsorted(cc, cc)
        mc = pool["council"][movers]
        movers = movers[np.argsort(mc, kind="stable")]
        mc = pool["council"][movers]
        rank_m = np.arange(len(movers)) - np.searchsorted(mc, mc)
        key_v = cc.astype(np.int64) * 1_000_000 + rank_v
        key_m = mc.astype(np.int64) * 1_000_000 + rank_m
        pos = np.minimum(np.searchsorted(key_v, key_m), len(key_v) - 1)
        ok = key_v[pos] == key_m
        slots, who = cand[pos[ok]], movers[ok]
        other_team = slot_team[slots] != pool["team"][who]
        slots, who = slots[other_team], who[other_team]
        if len(slots):
            hire(slots, t, EMP_PERM, pool["end"][who] + np.timedelta64(1, "D"), inherit=who)

    # initial population: permanent staff at the council's steady-state vacancy, the rest agency or vacant
    share = _steady_state(world.council_hire, world.council_agency)[slot_council]
    u0 = rng.random(n_s)
    filled = slot_active & (u0 < share[:, 0]) & ~slot_agency_only
    ag = slot_active & ~filled & ((u0 >= share[:, 0] + share[:, 1]) | slot_agency_only)
    s_perm = np.flatnonzero(filled)
    tenure = np.minimum(rng.exponential(60, len(s_perm)), 400).astype(int) + 1
    t0 = months[0]
    dates = t0 - (tenure * 30.44).astype("timedelta64[D]") + rng.integers(0, 28, len(s_perm)).astype("timedelta64[D]")
    emp0 = np.where(rng.random(len(s_perm)) < 0.07, EMP_FT, EMP_PERM)
    hire(s_perm, 0, emp0, dates, tenure_months=tenure)
    s_ag = np.flatnonzero(ag)
    ten_a = rng.integers(1, 18, len(s_ag))
    hire(s_ag, 0, EMP_AGENCY, t0 - (ten_a * 30.44).astype("timedelta64[D]"), tenure_months=ten_a)
    pool.a["asye"][:] = False
    vacant_since = np.where(occupant < 0, -3, 10**6)
    team_left = np.zeros((3, n_t))

    for t in range(n_months):
        m0 = months[t]
        if t == policy_m and scenario.extra_posts_share > 0:
            slot_active[:] = True
            vacant_since[(occupant < 0)] = t - 1
            team_holding_posts = np.bincount(slot_team, weights=slot_fte * (~slot_mgr) * slot_active * ~slot_agency_only, minlength=n_t)
        # -- hiring: permanent hires into vacant or agency-covered posts; agency cover for vacant posts
        occ_emp = np.where(occupant >= 0, pool["emp"][np.maximum(occupant, 0)], -1)
        vacant = slot_active & (occupant < 0) & (vacant_since < t)
        covered = slot_active & (occ_emp == EMP_AGENCY)
        p_h = np.clip(world.council_hire[slot_council] * hire_market[t], 0, 0.9)
        new_perm = (vacant | covered) & ~slot_agency_only & (rng.random(n_s) < np.where(covered, COVERED_HIRE * p_h, p_h))
        end_ag = occupant[covered & new_perm]
        if len(end_ag):
            pool.a["end"][end_ag] = m0 - np.timedelta64(1, "D")
            pool.a["reason"][end_ag] = R_EOC
            rec["exit"].append(dict(w=end_ag, t=np.full(len(end_ag), t - 1), vol=np.zeros(len(end_ag), bool)))
        s_new = np.flatnonzero(new_perm)
        if len(s_new):
            d = m0 + rng.integers(0, 28, len(s_new)).astype("timedelta64[D]")
            emp = np.where(rng.random(len(s_new)) < 0.08, EMP_FT, EMP_PERM)
            hire(s_new, t, emp, d)
        s_ag = np.flatnonzero(vacant & ~new_perm & (rng.random(n_s) < world.council_agency[slot_council] * market["agency"][t]))
        if len(s_ag):
            hire(s_ag, t, EMP_AGENCY, m0 + rng.integers(0, 28, len(s_ag)).astype("timedelta64[D]"))

        # -- who is in post this month
        w = occupant[(occupant >= 0) & slot_active]
        n = len(w)
        team = pool["team"][w]
        council = pool["council"][w]
        emp = pool["emp"][w]
        role = pool["role"][w]
        fte = pool["fte"][w]
        tenure_m = t - pool["start_m"][w]
        asye = pool["asye"][w]

        # -- cases allocated by FTE (managers hold none; ASYE and first month protected)
        holder = role != 3
        wgt = fte * holder * np.where(asye & (tenure_m < 12), 0.8, 1.0) * np.where(tenure_m == 0, 0.5, 1.0)
        team_w = np.bincount(team, weights=wgt, minlength=n_t)
        # a vacant post's cases go to colleagues only in part (SPILL); the rest wait unallocated or sit
        # with the manager, as councils report. Full spill made caseload drive council turnover in a
        # spiral (simulated council-level Spearman correlation of caseload with turnover ~0.5; DfE ~0.05)
        short = np.maximum(team_holding_posts - np.bincount(team, weights=fte * holder, minlength=n_t), 0)
        team_cases = (team_holding_posts - (1 - SPILL) * short) * demand[t, world.team_council]
        mean_cases = team_cases[team] * wgt / np.maximum(team_w[team], 1e-9) * pool["case_noise"][w]
        open_c = np.minimum(rng.poisson(mean_cases), 150)
        serv = team_service[team]
        cp = rng.binomial(open_c, CP_SHARE[serv])
        cic = rng.binomial(open_c, CIC_SHARE[serv])
        court = np.minimum(rng.binomial(open_c, COURT_SHARE[serv]), open_c)
        new_alloc = np.minimum(np.where(tenure_m == 0, open_c, rng.binomial(open_c, CHURN[serv])), 100)
        cap = world.team_cap[team] if scenario.caseload_cap is None or t < policy_m else np.full(n, scenario.caseload_cap)
        ratio = np.where(holder, open_c / (cap * fte), 0.7)
        over = ratio > 1.0
        hist = ((pool["over_hist"][w] << 1) | over) & 0xFFF
        pool.a["over_hist"][w] = hist
        over12 = _popcount12(hist)
        rec["case"].append(dict(w=w, t=np.full(n, t, np.int16), open=open_c, cp=cp, cic=cic, court=court, new=new_alloc))

        # -- sickness absence (strain raises it)
        p_sick = np.clip(0.075 * market["absence"][t] * pool["abs_prop"][w] * world.council_absence[council] * (1 + 0.6 * (ratio > 1.1)), 0, 0.9)
        days = np.where(rng.random(n) < p_sick, np.minimum(21, np.round(rng.gamma(1.2, 4.5, n) * 2) / 2 + 0.5), 0.0)
        rec["absence"].append(dict(w=w, t=np.full(n, t, np.int16), days=days))
        abs3 = days + pool["abs1"][w] + pool["abs2"][w]
        pool.a["abs2"][w] = pool["abs1"][w]
        pool.a["abs1"][w] = days

        # -- supervision (less when the manager's post is vacant or covered by agency)
        mgr_slot = np.flatnonzero(slot_mgr)
        mgr_ok = np.zeros(n_t, bool)
        mo = occupant[mgr_slot]
        mgr_ok[slot_team[mgr_slot]] = (mo >= 0) & (np.where(mo >= 0, pool["emp"][np.maximum(mo, 0)], 1) != EMP_AGENCY)
        p_sup = world.team_supervision[team] * np.where(mgr_ok[team], 1.0, 0.55)
        sup = (rng.random(n) < p_sup) & (emp != EMP_AGENCY)
        since_sup = np.where(sup, 0, pool["since_sup"][w] + 1)
        pool.a["since_sup"][w] = since_sup
        ws = w[sup]
        rec["sup"].append(dict(w=ws, date=m0 + rng.integers(0, 28, len(ws)).astype("timedelta64[D]"),
                               minutes=rng.choice([45, 60, 60, 75, 90, 90, 120], len(ws))))

        # -- pay against the agency alternative, rent against take-home pay
        pi = pidx[t]
        own = salary(pool["sp"][w], pi)
        supp, ret = _extras(w, np.full(n, t))
        agency_annual = day_rate[t, council] * AGENCY_DAYS
        gap = agency_annual / (own + supp + ret) - 1
        take_home = (own + supp + ret) * fte * 0.72 / 12
        home = pool["home"][w]
        rent_share = rent[t, home] / take_home
        growth = rent[t, home] / rent[t - 12, home] - 1 if t >= 12 else g_year[0, home]

        # -- team instability: leavers in the last 3 months per post, agency share now
        posts = np.maximum(np.bincount(slot_team, weights=slot_active, minlength=n_t), 1)
        left3 = team_left.sum(axis=0) / posts
        ag_share = np.bincount(team, weights=fte * (emp == EMP_AGENCY), minlength=n_t) / np.maximum(np.bincount(team, weights=fte, minlength=n_t), 1e-9)

        # -- life events (unobserved personal reasons)
        life = pool["life"][w]
        life = np.where(life > 0, life - 1, np.where(rng.random(n) < 0.006, rng.integers(1, 7, n), 0))
        pool.a["life"][w] = life

        state = dict(load_ratio=ratio, over_cap_12m=over12, absence_3m=abs3, agency_gap=gap, tenure=tenure_m,
                     asye=asye, since_progression=pool["since_prog"][w], since_supervision=since_sup,
                     commute=pool["minutes"][w], rent_share=rent_share, rent_growth=growth,
                     team_left_3m=left3[team], team_agency=ag_share[team], frailty=pool["frailty"][w],
                     life_event=life > 0, agency=emp == EMP_AGENCY)
        contrib = contributions(state) * scenario.hazard_scale
        base = B0 + world.council_offset[council] + year_shift[t] + np.where(emp == EMP_AGENCY, 0.2, np.where(emp == EMP_FT, 0.3, 0.0))
        logit = base + contrib.sum(axis=1)
        p = 1 / (1 + np.exp(-logit))
        rec["truth"].append(dict(w=w, t=np.full(n, t, np.int16), p=p.astype(np.float64), base=base, contrib=contrib.astype(np.float64)))

        # -- exits: voluntary from the hazard; retirement, dismissal, internal moves, end of fixed-term contracts
        u = rng.random(n)
        vol = u < p
        age = pool["age0"][w] + tenure_m / 12
        p_ret = np.where(emp == EMP_AGENCY, 0, np.where(age >= 60, 0.025, np.where(age >= 55, 0.004, 0)))
        v = rng.random(n)
        retire = ~vol & (v < p_ret)
        dismiss = ~vol & ~retire & (v >= p_ret) & (v < p_ret + 0.0007) & (emp != EMP_AGENCY)
        move = ~vol & ~retire & ~dismiss & (emp == EMP_PERM) & (rng.random(n) < 0.002)
        eoc = ~vol & ~retire & ~dismiss & (emp == EMP_FT) & (pool["contract_end"][w] <= t)
        # most fixed-term contracts are renewed (6-24 month contracts with half renewed gave fixed-term staff
        # 70-90% annual turnover, leaving permanent turnover 2-3 pp under the DfE rate it is calibrated to)
        renew = eoc & (rng.random(n) < RENEW_FT)
        pool.a["contract_end"][w[renew]] = t + 12
        eoc &= ~renew
        reason = np.full(n, -1, np.int8)
        reason[vol] = np.where(emp[vol] == EMP_AGENCY, R_EOC, R_RES)
        reason[retire], reason[dismiss], reason[move], reason[eoc] = R_RET, R_DIS, R_MOVE, R_EOC
        leaving = reason >= 0
        wl = w[leaving]
        end = m0 + rng.integers(0, 28, len(wl)).astype("timedelta64[D]")
        pool.a["end"][wl] = np.maximum(end, pool["start"][wl])
        pool.a["reason"][wl] = reason[leaving]
        pool.a["voluntary"][wl] = vol[leaving]
        rec["exit"].append(dict(w=wl, t=np.full(len(wl), t), vol=vol[leaving]))
        # leavers this month count towards the team's instability over the next three months
        team_left[t % 3] = np.bincount(team[leaving & (reason != R_MOVE) & (emp != EMP_AGENCY)], minlength=n_t)
        free = pool["slot"][wl]
        occupant[free] = -1
        vacant_since[free] = t
        _internal_moves(w[move], t)

        # -- April: pay award and spinal progression; some promotions to senior practitioner
        stay = w[~leaving]
        pool.a["since_prog"][stay] += 1
        if mnum[t] == 4:
            perm = stay[pool["emp"][stay] != EMP_AGENCY]
            r = pool["role"][perm]
            can = pool["sp"][perm] < BAND_HIGH[r]
            pool.a["sp"][perm] += can
            promote = (r == 0) & ~can & (t - pool["start_m"][perm] > 24) & (rng.random(len(perm)) < 0.35)
            pool.a["role"][perm[promote]] = 1
            pool.a["sp"][perm[promote]] = BAND_LOW[1]
            pool.a["since_prog"][perm[can | promote]] = 0
            _pay_rows(perm, m0 + np.full(len(perm), 0).astype("timedelta64[D]"), np.full(len(perm), t))
        elif t == policy_m and (scenario.retention_payment or scenario.market_supplement):
            perm = stay[pool["emp"][stay] != EMP_AGENCY]
            _pay_rows(perm, m0 + np.timedelta64(1, "D") + np.zeros(len(perm), "timedelta64[D]"), np.full(len(perm), t))
        # -- ASYE ends after 12 months (the spell keeps its asye flag; the protection stops)
        # -- home moves change the commute
        mv = stay[rng.random(len(stay)) < 0.004]
        if len(mv):
            c = pool["council"][mv]
            home = first_area[c] + (rng.random(len(mv)) * n_areas[c]).astype(int)
            mins, km, mode = _commute(rng, len(mv), home == pool["office"][mv])
            pool.a["home"][mv], pool.a["minutes"][mv], pool.a["km"][mv], pool.a["mode"][mv] = home, mins, km, mode
            rec["commute"].append(dict(w=mv, date=m0 + rng.integers(5, 28, len(mv)).astype("timedelta64[D]"), minutes=mins, km=km, mode=mode))
        # -- office moves: a team relocates to another area of its council; its staff's commutes change
        moving = rng.random(n_t) < 0.002
        if moving.any():
            tm_ = np.flatnonzero(moving)
            c = world.team_council[tm_]
            team_area[tm_] = first_area[c] + (rng.random(len(tm_)) * n_areas[c]).astype(int)
            om = stay[moving[pool["team"][stay]]]
            if len(om):
                pool.a["office"][om] = team_area[pool["team"][om]]
                mins, km, mode = _commute(rng, len(om), pool["home"][om] == pool["office"][om])
                pool.a["minutes"][om], pool.a["km"][om], pool.a["mode"][om] = mins, km, mode
                rec["commute"].append(dict(w=om, date=m0 + np.full(len(om), 27).astype("timedelta64[D]"), minutes=mins, km=km, mode=mode))
        if progress is not None:
            progress(t + 1, n_months)

    workers = {k: v[: pool.n] for k, v in pool.a.items()}
    sim = Simulation(world=world, months=months, workers=workers, n_workers=pool.n, slot_occupant=occupant, slot_active=slot_active)
    sim.records = {k: _concat(v) for k, v in rec.items()}
    sim.records["housing"] = dict(rent=rent, price=price)
    sim.records["day_rate"] = day_rate
    sim.records["slot_team"], sim.records["slot_fte"], sim.records["slot_mgr"] = slot_team, slot_fte, slot_mgr
    sim.records["report_year"] = report_year
    sim.records["team_area"] = team_area
    sim.records["slot_agency_only"] = slot_agency_only
    return sim


def _steady_state(hire: np.ndarray, agency: np.ndarray, *, leave: float = 0.0125, agency_leave: float = 0.02) -> np.ndarray:
    """Long-run shares of posts (permanent, vacant, agency-covered) per council, from the post-state chain.

    Starting the simulation there avoids a first-year transient in vacancy and agency rates.
    """
    n = len(hire)
    T = np.zeros((n, 3, 3))
    T[:, 0, 0], T[:, 0, 1] = 1 - leave, leave
    T[:, 1, 0], T[:, 1, 2] = hire, (1 - hire) * agency
    T[:, 1, 1] = 1 - T[:, 1, 0] - T[:, 1, 2]
    rep = COVERED_HIRE * hire
    T[:, 2, 0], T[:, 2, 1] = rep, agency_leave * (1 - rep)
    T[:, 2, 2] = 1 - T[:, 2, 0] - T[:, 2, 1]
    pi = np.tile([1.0, 0.0, 0.0], (n, 1))
    for _ in range(400):  # power iteration, vectorised over councils
        pi = np.einsum("ni,nij->nj", pi, T)
    return pi


_POP = np.array([bin(i).count("1") for i in range(4096)], dtype=np.int16)


def _popcount12(hist: np.ndarray) -> np.ndarray:
    """Months over cap in the last 12 (bits of a 12-bit history)."""
    return _POP[hist & 0xFFF]
