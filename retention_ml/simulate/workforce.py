"""The monthly engine: posts filled, vacated and covered; cases, sickness, supervision, pay and leaving.

One Python loop over months; everything inside is vectorised over workers
(numpy arrays indexed by spell), teams (``np.bincount``) and posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retention_ml.simulate.config import NATIONAL, Scenario, year_fit_arrays
from retention_ml.simulate.councils import World
from retention_ml.simulate.hazard import contributions, year_effect
from retention_ml.simulate.paths import agency_day_rates, calendar, demand_paths, housing_paths, months_after, national
from retention_ml.simulate.pay import AGENCY_DAYS, BAND_HIGH, BAND_LOW, pay_index, salary
from retention_ml.simulate.posts import establishment

__all__ = ["Simulation", "run_months"]

EMP_PERM, EMP_AGENCY, EMP_FT = 0, 1, 2
REASONS = ("resignation", "retirement", "dismissal", "end_of_contract", "internal_move", "other")
R_RES, R_RET, R_DIS, R_EOC, R_MOVE = 0, 1, 2, 3, 4
B0 = -5.66  # intercept of the monthly voluntary hazard (tuned so national turnover is ~15%)
SPILL = 0.5  # share of a vacant post's cases shared out among the team's case holders
RENEW_FT = 0.7  # share of fixed-term contracts renewed (for 12 months) when they end
MOVE_ROUNDS = 3  # matching rounds for internal moves (workforce._Engine._move_destinations)
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
    scenario: Scenario = field(default_factory=Scenario)
    policy_m: int = 0                      # month index the scenario's policy starts (0: from the start)


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


@dataclass
class _InPost:
    """The people in post in one month: ``w`` their spell indices (into the pool), and per person ``team``,
    ``council``, ``emp`` (EMP_*), ``role`` (index into pay.ROLES), ``fte`` (0-1), ``tenure_m`` (whole months
    since the spell began) and ``asye`` (started as a newly qualified worker)."""

    w: np.ndarray
    team: np.ndarray
    council: np.ndarray
    emp: np.ndarray
    role: np.ndarray
    fte: np.ndarray
    tenure_m: np.ndarray
    asye: np.ndarray

    def __len__(self) -> int:
        return len(self.w)


class _Engine:
    """The state of one run between months: the posts, who holds each, every spell so far and the records.

    The random draws happen in one fixed order (posts, paths, the first population, then month by month), so
    the same generator state gives the same run; a refactor that reorders draws changes every output table
    (``tests/simulate/test_pinned_output.py`` catches it).
    """

    def __init__(self, world: World, scenario: Scenario, start: np.datetime64, n_months: int,
                 rng: np.random.Generator, year_fit: dict | None):
        self.world, self.scenario, self.rng = world, scenario, rng
        self.cal = calendar(start, n_months)
        self.policy_m = 0 if scenario.policy_start is None else months_after(start, scenario.policy_start)
        self.n_t = len(world.team_council)
        self.posts = establishment(rng, world, scenario)
        self.team_area = world.team_area.copy()  # offices move during the run
        self.team_holding_posts = self.posts.holding_posts(self.n_t)
        # recruitment market: hiring is slower in years when councils' vacancy rates were high (DfE medians)
        self.market = year_fit_arrays(self.cal.report_year, year_fit)
        self.hire_market = 15.5 / national(self.cal.report_year, "vacancy") * self.market["hire"]
        self.year_shift = year_effect(self.cal.report_year, NATIONAL) + self.market["hazard"]
        self.demand = demand_paths(rng, world, scenario, self.cal, start)
        self.housing = housing_paths(rng, world, self.cal)
        self.first_area = np.searchsorted(world.area_council, np.arange(world.n_councils))
        self.n_areas = np.bincount(world.area_council, minlength=world.n_councils)
        self.day_rate = agency_day_rates(rng, world.n_councils, self.cal)
        self.pidx = pay_index(self.cal.years, self.cal.mnum)
        self.pool = Pool(int(len(self.posts) * (1.2 + 0.03 * n_months)))
        self.occupant = np.full(len(self.posts), -1)
        self.rec = {k: [] for k in ("case", "absence", "truth", "sup", "pay", "commute", "exit")}

    # -- hiring -------------------------------------------------------------------------------------------

    def _roles(self, slots: np.ndarray, emp, *, first_jobs: bool):
        """Role (index into pay.ROLES), newly-qualified flag and personal-adviser flag of people hired into
        ``slots``. Care-leaver teams' non-manager posts are personal advisers; with ``first_jobs`` 45% of
        other permanent and fixed-term (``emp``) social worker hires are newly qualified."""
        n = len(slots)
        mgr = self.posts.manager[slots]
        is_pa = (self.world.team_service[self.posts.team[slots]] == 3) & ~mgr
        nqsw = (emp != EMP_AGENCY) & ~mgr & ~is_pa & (self.rng.random(n) < (0.45 if first_jobs else 0.0))
        r = self.rng.random(n)
        role = np.where(r < 0.68, 0, np.where(r < 0.9, 1, 2))
        role = np.where(nqsw, 0, role)
        return np.where(is_pa, 4, np.where(mgr, 3, role)), nqsw, is_pa

    def _carry_over(self, people: dict, inherit: np.ndarray, t: int) -> np.ndarray:
        """An internal move is the same person: ``people`` takes the characteristics, qualification date and
        age (grown by the months since spell ``inherit`` began, ``t`` being this month) of the earlier
        spells, in place; returns whether each is unqualified."""
        pool = self.pool
        for key in ("sex", "eth", "dis", "qualified", "frailty", "case_noise", "abs_prop"):
            people[key] = pool[key][inherit]
        people["age0"] = pool["age0"][inherit] + (t - pool["start_m"][inherit]) / 12
        return np.isnat(pool["qualified"][inherit])

    def _spinal_points(self, role: np.ndarray, nqsw: np.ndarray, inherit) -> np.ndarray:
        """Starting spinal point: the bottom of the role's band for newly qualified workers, uniform in the
        band for others; an internal mover keeps theirs (clipped to the new role's band)."""
        lo, hi = BAND_LOW[role], BAND_HIGH[role]
        sp = np.where(nqsw, lo, lo + (self.rng.random(len(role)) * (hi - lo + 1)).astype(int))
        sp = np.minimum(sp, hi)
        return sp if inherit is None else np.clip(self.pool["sp"][inherit], lo, hi)

    def _homes(self, council: np.ndarray, office: np.ndarray, inherit) -> np.ndarray:
        """Home area: 60% live in their office's area, the rest in a random area of the council; an
        internal mover keeps their home."""
        n = len(council)
        same = self.rng.random(n) < 0.6
        other = self.first_area[council] + (self.rng.random(n) * self.n_areas[council]).astype(int)
        home = np.where(same, office, other)
        return home if inherit is None else self.pool["home"][inherit]

    def _contract_end(self, emp, start_m: np.ndarray, t: int, tenure_months) -> np.ndarray:
        """Month index a fixed-term contract ends (10**6 for others): contracts run 12-24 months; staff
        already in post at the start (``tenure_months`` given) are part-way through theirs."""
        n = len(start_m)
        return np.where(emp == EMP_FT, np.maximum(start_m, t) + self.rng.integers(12, 25, n)
                        - (0 if tenure_months is None else self.rng.integers(0, 12, n)), 10**6)

    def hire(self, slots: np.ndarray, t: int, emp, start_dates: np.ndarray, tenure_months=None, inherit=None):
        """Start new spells in posts ``slots`` in month index ``t``; returns their spell indices.

        ``emp``: employment type (EMP_*, one or per post); ``start_dates``: datetime64[D] per post;
        ``tenure_months``: months already in post, for the population at the start of the run; ``inherit``:
        earlier spells of the same people (internal moves), whose person, home and pay carry over.
        """
        pool, rng, n = self.pool, self.rng, len(slots)
        team = self.posts.team[slots]
        role, nqsw, is_pa = self._roles(slots, emp, first_jobs=tenure_months is None and inherit is None)
        if inherit is not None:  # a mover keeps their role: their new post is of the same kind (_post_kind)
            role = self.pool["role"][inherit].astype(role.dtype)
        people = _new_people(rng, n, nqsw=nqsw, start_dates=start_dates)
        if tenure_months is not None:
            people["age0"] = np.maximum(21, people["age0"] - tenure_months / 12)
        unqualified = is_pa & (rng.random(n) < 0.6)
        if inherit is not None:
            unqualified = self._carry_over(people, inherit, t)
        sp = self._spinal_points(role, nqsw, inherit)
        council = self.posts.council[slots]
        office = self.team_area[team]
        home = self._homes(council, office, inherit)
        minutes, km, mode = _commute(rng, n, home == office)
        start_m = np.full(n, t) if tenure_months is None else t - tenure_months
        contract_end = self._contract_end(emp, start_m, t, tenure_months)
        idx = pool.add(
            slot=slots, team=team, council=council, role=role.astype(np.int8), emp=np.asarray(emp, np.int8) * np.ones(n, np.int8),
            fte=self.posts.fte[slots], start=start_dates, start_m=start_m, end=np.full(n, np.datetime64("NaT"), "datetime64[D]"),
            reason=np.full(n, -1, np.int8), voluntary=np.zeros(n, bool), asye=nqsw, unqualified=unqualified,
            home=home, office=office, minutes=minutes, km=km, mode=mode, sp=sp.astype(np.int16),
            since_prog=rng.integers(0, 40, n) if tenure_months is not None else np.zeros(n, int),
            since_sup=np.ones(n, int), life=np.zeros(n, np.int16), contract_end=contract_end,
            over=np.zeros(n, np.int16), over_hist=np.zeros(n, np.int32), abs1=np.zeros(n), abs2=np.zeros(n), abs3=np.zeros(n),
            **people,
        )
        pool.a["qualified"][idx] = np.where(unqualified, np.datetime64("NaT"), pool.a["qualified"][idx])
        self.occupant[slots] = idx
        tm = np.clip(np.searchsorted(self.cal.months, start_dates, side="right") - 1, 0, len(self.cal) - 1)
        self._pay_rows(idx, start_dates, tm)
        self.rec["commute"].append(dict(w=idx, date=start_dates, minutes=minutes, km=km, mode=mode))
        return idx

    def _pay_rows(self, idx: np.ndarray, dates: np.ndarray, tm: np.ndarray) -> None:
        """Record a pay row for spells ``idx`` dated ``dates`` (datetime64[D]), priced at month indices ``tm``:
        agency staff at the council's day rate x AGENCY_DAYS, others at their spinal point plus extras."""
        pool, cal = self.pool, self.cal
        emp = pool["emp"][idx]
        agency = emp == EMP_AGENCY
        sal = salary(pool["sp"][idx], pay_index(cal.years[tm], cal.mnum[tm]))
        sal = np.where(agency, self.day_rate[tm, pool["council"][idx]] * AGENCY_DAYS, sal)
        supp, ret = self._extras(idx, tm)
        self.rec["pay"].append(dict(w=idx, date=dates, band=np.where(agency, 5, pool["role"][idx]).astype(np.int8),
                                    sp=np.where(agency, -1, pool["sp"][idx]), salary=sal, supp=np.where(agency, 0, supp),
                                    ret=np.where(agency, 0, ret)))

    def _extras(self, idx: np.ndarray, tm: np.ndarray):
        """Market supplement (GBP/yr, front-door and safeguarding teams only) and retention payment (GBP/yr,
        not for managers) of spells ``idx`` at month indices ``tm``, the scenario's amounts added from its
        ``policy_start``."""
        pool, world, scenario = self.pool, self.world, self.scenario
        team = pool["team"][idx]
        council = pool["council"][idx]
        hot = np.isin(world.team_service[team], (0, 1))
        on = tm >= self.policy_m
        supp = np.where(hot, world.council_supplement[council] + on * scenario.market_supplement, 0.0)
        ret = world.council_retention[council] + on * scenario.retention_payment
        ret = np.where(pool["role"][idx] == 3, 0.0, ret)
        return supp, ret

    def _post_kind(self, slots: np.ndarray) -> np.ndarray:
        """What a post asks of its holder: 0 a social worker, 1 a personal adviser (a care-leaver team's
        non-manager post), 2 a team manager. A move keeps the kind, so the person keeps their role (and a
        personal adviser without a social work qualification never lands in a social worker's post)."""
        posts = self.posts
        pa = self.world.team_service[posts.team[slots]] == 3
        return np.where(posts.manager[slots], 2, np.where(pa, 1, 0))

    def _move_destinations(self, movers: np.ndarray) -> np.ndarray:
        """For each mover (spell index, still in post), a vacant funded post of the same kind in another team
        of their council, or -1 when none is free (they then stay where they are).

        Rank matching within (council, kind): the k-th mover takes the k-th randomly ordered vacant post.
        A mover matched to a post of their own team tries again with the posts left, for MOVE_ROUNDS rounds.
        """
        posts, pool, rng = self.posts, self.pool, self.rng
        dest = np.full(len(movers), -1)
        cand = np.flatnonzero(posts.active & (self.occupant < 0) & ~posts.agency_only)
        m_group = pool["council"][movers].astype(np.int64) * 3 + self._post_kind(pool["slot"][movers])
        m_team = pool["team"][movers]
        for _ in range(MOVE_ROUNDS):  # a few vectorised rounds, not a loop over people
            todo = np.flatnonzero(dest < 0)
            if len(todo) == 0 or len(cand) == 0:
                break
            v_group = posts.council[cand].astype(np.int64) * 3 + self._post_kind(cand)
            order = np.lexsort((rng.random(len(cand)), v_group))
            cand, v_group = cand[order], v_group[order]
            key_v = v_group * 1_000_000 + np.arange(len(cand)) - np.searchsorted(v_group, v_group)
            mo = todo[np.argsort(m_group[todo], kind="stable")]
            g = m_group[mo]
            key_m = g * 1_000_000 + np.arange(len(mo)) - np.searchsorted(g, g)
            pos = np.minimum(np.searchsorted(key_v, key_m), len(key_v) - 1)
            ok = (key_v[pos] == key_m) & (posts.team[cand[pos]] != m_team[mo])
            dest[mo[ok]] = cand[pos[ok]]
            cand = np.delete(cand, pos[ok])
        return dest

    def _internal_moves(self, movers: np.ndarray, slots: np.ndarray, t: int) -> None:
        """Movers (spell indices whose spell ended with an internal move in month ``t``) start a new spell
        the next day in ``slots``, the posts :meth:`_move_destinations` found them."""
        if len(movers):
            self.hire(slots, t, EMP_PERM, self.pool["end"][movers] + np.timedelta64(1, "D"), inherit=movers)

    def seed_population(self) -> None:
        """The people in post when the run starts: permanent staff at the council's steady-state vacancy
        rate (tenure exponential, mean 60 months; 7% fixed-term), agency staff in the posts they would cover
        and in agency-only posts (1-17 months in), the rest vacant."""
        posts, rng, t0 = self.posts, self.rng, self.cal.months[0]
        share = _steady_state(self.world.council_hire, self.world.council_agency)[posts.council]
        u0 = rng.random(len(posts))
        filled = posts.active & (u0 < share[:, 0]) & ~posts.agency_only
        ag = posts.active & ~filled & ((u0 >= share[:, 0] + share[:, 1]) | posts.agency_only)
        s_perm = np.flatnonzero(filled)
        tenure = np.minimum(rng.exponential(60, len(s_perm)), 400).astype(int) + 1
        dates = t0 - (tenure * 30.44).astype("timedelta64[D]") + rng.integers(0, 28, len(s_perm)).astype("timedelta64[D]")
        emp0 = np.where(rng.random(len(s_perm)) < 0.07, EMP_FT, EMP_PERM)
        self.hire(s_perm, 0, emp0, dates, tenure_months=tenure)
        s_ag = np.flatnonzero(ag)
        ten_a = rng.integers(1, 18, len(s_ag))
        self.hire(s_ag, 0, EMP_AGENCY, t0 - (ten_a * 30.44).astype("timedelta64[D]"), tenure_months=ten_a)
        self.pool.a["asye"][:] = False
        self.vacant_since = np.where(self.occupant < 0, -3, 10**6)
        self.team_left = np.zeros((3, self.n_t))  # leavers per team in the last three months (a ring by t % 3)

    # -- one month ----------------------------------------------------------------------------------------

    def _open_extra_posts(self, t: int) -> None:
        """At the scenario's ``policy_start`` (month index ``t``) its extra funded posts open, vacant."""
        if t == self.policy_m and self.scenario.extra_posts_share > 0:
            self.posts.active[:] = True
            self.vacant_since[(self.occupant < 0)] = t - 1
            self.team_holding_posts = self.posts.holding_posts(self.n_t)

    def _fill_posts(self, t: int) -> None:
        """Permanent hires into vacant or agency-covered posts (an agency worker whose post is filled ends
        their engagement the day before); agency cover for vacant posts still empty. ``t``: month index."""
        posts, pool, rng, occupant, m0 = self.posts, self.pool, self.rng, self.occupant, self.cal.months[t]
        n_s = len(posts)
        occ_emp = np.where(occupant >= 0, pool["emp"][np.maximum(occupant, 0)], -1)
        vacant = posts.active & (occupant < 0) & (self.vacant_since < t)
        covered = posts.active & (occ_emp == EMP_AGENCY)
        p_h = np.clip(self.world.council_hire[posts.council] * self.hire_market[t], 0, 0.9)
        new_perm = (vacant | covered) & ~posts.agency_only & (rng.random(n_s) < np.where(covered, COVERED_HIRE * p_h, p_h))
        end_ag = occupant[covered & new_perm]
        if len(end_ag):
            pool.a["end"][end_ag] = m0 - np.timedelta64(1, "D")
            pool.a["reason"][end_ag] = R_EOC
            self.rec["exit"].append(dict(w=end_ag, t=np.full(len(end_ag), t - 1), vol=np.zeros(len(end_ag), bool)))
        s_new = np.flatnonzero(new_perm)
        if len(s_new):
            d = m0 + rng.integers(0, 28, len(s_new)).astype("timedelta64[D]")
            emp = np.where(rng.random(len(s_new)) < 0.08, EMP_FT, EMP_PERM)
            self.hire(s_new, t, emp, d)
        agency_p = self.world.council_agency[posts.council] * self.market["agency"][t]
        s_ag = np.flatnonzero(vacant & ~new_perm & (rng.random(n_s) < agency_p))
        if len(s_ag):
            self.hire(s_ag, t, EMP_AGENCY, m0 + rng.integers(0, 28, len(s_ag)).astype("timedelta64[D]"))

    def _in_post(self, t: int) -> _InPost:
        """Who holds an active post in month index ``t``."""
        pool = self.pool
        w = self.occupant[(self.occupant >= 0) & self.posts.active]
        return _InPost(w=w, team=pool["team"][w], council=pool["council"][w], emp=pool["emp"][w], role=pool["role"][w],
                       fte=pool["fte"][w], tenure_m=t - pool["start_m"][w], asye=pool["asye"][w])

    def _allocate_cases(self, t: int, ip: _InPost):
        """Cases allocated by FTE (managers hold none; ASYE and first month protected); records the caseload
        rows. Returns each person's load ratio (open cases / (cap x FTE); 0.7 for managers) and months over
        cap in the last 12."""
        pool, rng, world, scenario, n = self.pool, self.rng, self.world, self.scenario, len(ip)
        team, fte, tenure_m = ip.team, ip.fte, ip.tenure_m
        holder = ip.role != 3
        wgt = fte * holder * np.where(ip.asye & (tenure_m < 12), 0.8, 1.0) * np.where(tenure_m == 0, 0.5, 1.0)
        team_w = np.bincount(team, weights=wgt, minlength=self.n_t)
        # a vacant post's cases go to colleagues only in part (SPILL); the rest wait unallocated or sit
        # with the manager, as councils report. Full spill made caseload drive council turnover in a
        # spiral (simulated council-level Spearman correlation of caseload with turnover ~0.5; DfE ~0.05)
        short = np.maximum(self.team_holding_posts - np.bincount(team, weights=fte * holder, minlength=self.n_t), 0)
        team_cases = (self.team_holding_posts - (1 - SPILL) * short) * self.demand[t, world.team_council]
        mean_cases = team_cases[team] * wgt / np.maximum(team_w[team], 1e-9) * pool["case_noise"][ip.w]
        open_c = np.minimum(rng.poisson(mean_cases), 150)
        serv = world.team_service[team]
        cp = rng.binomial(open_c, CP_SHARE[serv])
        cic = rng.binomial(open_c, CIC_SHARE[serv])
        court = np.minimum(rng.binomial(open_c, COURT_SHARE[serv]), open_c)
        new_alloc = np.minimum(np.where(tenure_m == 0, open_c, rng.binomial(open_c, CHURN[serv])), 100)
        cap = world.team_cap[team] if scenario.caseload_cap is None or t < self.policy_m else np.full(n, scenario.caseload_cap)
        ratio = np.where(holder, open_c / (cap * fte), 0.7)
        over = ratio > 1.0
        hist = ((pool["over_hist"][ip.w] << 1) | over) & 0xFFF
        pool.a["over_hist"][ip.w] = hist
        self.rec["case"].append(dict(w=ip.w, t=np.full(n, t, np.int16), open=open_c, cp=cp, cic=cic, court=court, new=new_alloc))
        return ratio, _popcount12(hist)

    def _sickness(self, t: int, ip: _InPost, ratio: np.ndarray) -> np.ndarray:
        """Sickness absence days this month (strain, a load ratio over 1.1, raises the chance by 60%);
        records the rows and returns days absent over the last three months."""
        pool, rng, n = self.pool, self.rng, len(ip)
        p_sick = np.clip(0.075 * self.market["absence"][t] * pool["abs_prop"][ip.w] * self.world.council_absence[ip.council] * (1 + 0.6 * (ratio > 1.1)), 0, 0.9)
        days = np.where(rng.random(n) < p_sick, np.minimum(21, np.round(rng.gamma(1.2, 4.5, n) * 2) / 2 + 0.5), 0.0)
        self.rec["absence"].append(dict(w=ip.w, t=np.full(n, t, np.int16), days=days))
        abs3 = days + pool["abs1"][ip.w] + pool["abs2"][ip.w]
        pool.a["abs2"][ip.w] = pool["abs1"][ip.w]
        pool.a["abs1"][ip.w] = days
        return abs3

    def _supervision(self, t: int, ip: _InPost) -> np.ndarray:
        """Supervision sessions this month (less likely, x0.55, when the manager's post is vacant or covered
        by agency; agency staff get none); records the sessions and returns months since the last one."""
        pool, rng, posts, occupant, n = self.pool, self.rng, self.posts, self.occupant, len(ip)
        mgr_slot = np.flatnonzero(posts.manager)
        mgr_ok = np.zeros(self.n_t, bool)
        mo = occupant[mgr_slot]
        mgr_ok[posts.team[mgr_slot]] = (mo >= 0) & (np.where(mo >= 0, pool["emp"][np.maximum(mo, 0)], 1) != EMP_AGENCY)
        p_sup = self.world.team_supervision[ip.team] * np.where(mgr_ok[ip.team], 1.0, 0.55)
        sup = (rng.random(n) < p_sup) & (ip.emp != EMP_AGENCY)
        since_sup = np.where(sup, 0, pool["since_sup"][ip.w] + 1)
        pool.a["since_sup"][ip.w] = since_sup
        ws = ip.w[sup]
        self.rec["sup"].append(dict(w=ws, date=self.cal.months[t] + rng.integers(0, 28, len(ws)).astype("timedelta64[D]"),
                                    minutes=rng.choice([45, 60, 60, 75, 90, 90, 120], len(ws))))
        return since_sup

    def _pay_and_rent(self, t: int, ip: _InPost):
        """Pay against the agency alternative and rent against take-home pay in month index ``t``: the
        agency gap (agency annual pay / own pay with extras - 1), rent as a share of monthly take-home pay
        (72% of gross) and the home area's rent growth over 12 months (a fraction)."""
        pool, h, n = self.pool, self.housing, len(ip)
        own = salary(pool["sp"][ip.w], self.pidx[t])
        supp, ret = self._extras(ip.w, np.full(n, t))
        agency_annual = self.day_rate[t, ip.council] * AGENCY_DAYS
        gap = agency_annual / (own + supp + ret) - 1
        take_home = (own + supp + ret) * ip.fte * 0.72 / 12
        home = pool["home"][ip.w]
        rent_share = h.rent[t, home] / take_home
        growth = h.rent[t, home] / h.rent[t - 12, home] - 1 if t >= 12 else h.growth_year[0, home]
        return gap, rent_share, growth

    def _team_instability(self, ip: _InPost):
        """Per person, their team's leavers in the last 3 months per active post and its agency share of
        FTE now."""
        posts, n_t, fte, team = self.posts, self.n_t, ip.fte, ip.team
        n_posts = np.maximum(np.bincount(posts.team, weights=posts.active, minlength=n_t), 1)
        left3 = self.team_left.sum(axis=0) / n_posts
        ag_share = np.bincount(team, weights=fte * (ip.emp == EMP_AGENCY), minlength=n_t) / np.maximum(np.bincount(team, weights=fte, minlength=n_t), 1e-9)
        return left3[team], ag_share[team]

    def _life_events(self, ip: _InPost) -> np.ndarray:
        """Unobserved personal reasons: 0.6% a month start one lasting 1-6 months; returns months left."""
        rng, n = self.rng, len(ip)
        life = self.pool["life"][ip.w]
        life = np.where(life > 0, life - 1, np.where(rng.random(n) < 0.006, rng.integers(1, 7, n), 0))
        self.pool.a["life"][ip.w] = life
        return life

    def _leaving_probability(self, t: int, ip: _InPost, state: dict) -> np.ndarray:
        """Monthly voluntary leaving probability from the hazard's driver contributions (``state``: the
        drivers' inputs, see hazard.contributions); records the truth rows (probability, base, contributions)."""
        contrib = contributions(state) * self.scenario.hazard_scale
        emp = ip.emp
        base = B0 + self.world.council_offset[ip.council] + self.year_shift[t] + np.where(emp == EMP_AGENCY, 0.2, np.where(emp == EMP_FT, 0.3, 0.0))
        logit = base + contrib.sum(axis=1)
        p = 1 / (1 + np.exp(-logit))
        self.rec["truth"].append(dict(w=ip.w, t=np.full(len(ip), t, np.int16), p=p.astype(np.float64), base=base, contrib=contrib.astype(np.float64)))
        return p

    def _exits(self, t: int, ip: _InPost, p: np.ndarray):
        """Who leaves in month index ``t`` and why: voluntary from ``p``; retirement (2.5% a month from 60,
        0.4% from 55), dismissal, internal moves and unrenewed fixed-term contracts. Records the leavers and
        frees their posts; returns the (leaving, internal move) masks over ``ip`` and the movers' new posts."""
        pool, rng, w, emp, n = self.pool, self.rng, ip.w, ip.emp, len(ip)
        vol = rng.random(n) < p
        age = pool["age0"][w] + ip.tenure_m / 12
        p_ret = np.where(emp == EMP_AGENCY, 0, np.where(age >= 60, 0.025, np.where(age >= 55, 0.004, 0)))
        v = rng.random(n)
        retire = ~vol & (v < p_ret)
        dismiss = ~vol & ~retire & (v >= p_ret) & (v < p_ret + 0.0007) & (emp != EMP_AGENCY)
        move = ~vol & ~retire & ~dismiss & (emp == EMP_PERM) & (rng.random(n) < 0.002)
        # a move needs a post to go to: without one the person stays in post (their spell does not end)
        wants = np.flatnonzero(move)
        dest = self._move_destinations(w[wants])
        move[wants[dest < 0]] = False
        dest = dest[dest >= 0]
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
        end = self.cal.months[t] + rng.integers(0, 28, len(wl)).astype("timedelta64[D]")
        pool.a["end"][wl] = np.maximum(end, pool["start"][wl])
        pool.a["reason"][wl] = reason[leaving]
        pool.a["voluntary"][wl] = vol[leaving]
        self.rec["exit"].append(dict(w=wl, t=np.full(len(wl), t), vol=vol[leaving]))
        # leavers this month count towards the team's instability over the next three months
        self.team_left[t % 3] = np.bincount(ip.team[leaving & (reason != R_MOVE) & (emp != EMP_AGENCY)], minlength=self.n_t)
        free = pool["slot"][wl]
        self.occupant[free] = -1
        self.vacant_since[free] = t
        return leaving, move, dest

    def _pay_round(self, t: int, stay: np.ndarray) -> None:
        """For the spells ``stay`` still in post after month index ``t``: in April the pay award and a spinal
        point (or, for social workers at the top of their band after two years, a 35% chance of promotion
        to senior practitioner), recorded as pay rows; at the scenario's ``policy_start`` a pay row showing
        its payments."""
        pool, m0 = self.pool, self.cal.months[t]
        pool.a["since_prog"][stay] += 1
        if self.cal.mnum[t] == 4:
            perm = stay[pool["emp"][stay] != EMP_AGENCY]
            r = pool["role"][perm]
            can = pool["sp"][perm] < BAND_HIGH[r]
            pool.a["sp"][perm] += can
            promote = (r == 0) & ~can & (t - pool["start_m"][perm] > 24) & (self.rng.random(len(perm)) < 0.35)
            pool.a["role"][perm[promote]] = 1
            pool.a["sp"][perm[promote]] = BAND_LOW[1]
            pool.a["since_prog"][perm[can | promote]] = 0
            self._pay_rows(perm, m0 + np.full(len(perm), 0).astype("timedelta64[D]"), np.full(len(perm), t))
        elif t == self.policy_m and (self.scenario.retention_payment or self.scenario.market_supplement):
            perm = stay[pool["emp"][stay] != EMP_AGENCY]
            self._pay_rows(perm, m0 + np.timedelta64(1, "D") + np.zeros(len(perm), "timedelta64[D]"), np.full(len(perm), t))

    def _home_moves(self, t: int, stay: np.ndarray) -> None:
        """0.4% of people in post move home each month, to a random area of their council; records the new
        commute."""
        pool, rng = self.pool, self.rng
        mv = stay[rng.random(len(stay)) < 0.004]
        if len(mv):
            c = pool["council"][mv]
            home = self.first_area[c] + (rng.random(len(mv)) * self.n_areas[c]).astype(int)
            mins, km, mode = _commute(rng, len(mv), home == pool["office"][mv])
            pool.a["home"][mv], pool.a["minutes"][mv], pool.a["km"][mv], pool.a["mode"][mv] = home, mins, km, mode
            self.rec["commute"].append(dict(w=mv, date=self.cal.months[t] + rng.integers(5, 28, len(mv)).astype("timedelta64[D]"), minutes=mins, km=km, mode=mode))

    def _office_moves(self, t: int, stay: np.ndarray) -> None:
        """0.2% of teams a month relocate to another area of their council; their staff's commutes change
        (recorded on the 28th)."""
        pool, rng, world = self.pool, self.rng, self.world
        moving = rng.random(self.n_t) < 0.002
        if moving.any():
            tm_ = np.flatnonzero(moving)
            c = world.team_council[tm_]
            self.team_area[tm_] = self.first_area[c] + (rng.random(len(tm_)) * self.n_areas[c]).astype(int)
            om = stay[moving[pool["team"][stay]]]
            if len(om):
                pool.a["office"][om] = self.team_area[pool["team"][om]]
                mins, km, mode = _commute(rng, len(om), pool["home"][om] == pool["office"][om])
                pool.a["minutes"][om], pool.a["km"][om], pool.a["mode"][om] = mins, km, mode
                self.rec["commute"].append(dict(w=om, date=self.cal.months[t] + np.full(len(om), 27).astype("timedelta64[D]"), minutes=mins, km=km, mode=mode))

    def month(self, t: int) -> None:
        """Simulate month index ``t``: fill posts, then for the people in post cases, sickness, supervision,
        pay and rent, the leaving hazard and exits, then the year's pay round and home and office moves."""
        self._open_extra_posts(t)
        self._fill_posts(t)
        ip = self._in_post(t)
        ratio, over12 = self._allocate_cases(t, ip)
        abs3 = self._sickness(t, ip, ratio)
        since_sup = self._supervision(t, ip)
        gap, rent_share, growth = self._pay_and_rent(t, ip)
        team_left_3m, team_agency = self._team_instability(ip)
        life = self._life_events(ip)
        w = ip.w
        state = dict(load_ratio=ratio, over_cap_12m=over12, absence_3m=abs3, agency_gap=gap, tenure=ip.tenure_m,
                     asye=ip.asye, since_progression=self.pool["since_prog"][w], since_supervision=since_sup,
                     commute=self.pool["minutes"][w], rent_share=rent_share, rent_growth=growth,
                     team_left_3m=team_left_3m, team_agency=team_agency, frailty=self.pool["frailty"][w],
                     life_event=life > 0, agency=ip.emp == EMP_AGENCY)
        leaving, move, dest = self._exits(t, ip, self._leaving_probability(t, ip, state))
        self._internal_moves(w[move], dest, t)
        stay = w[~leaving]
        self._pay_round(t, stay)
        self._home_moves(t, stay)
        self._office_moves(t, stay)

    def simulation(self) -> Simulation:
        """What the run produced, for the writer."""
        pool, posts = self.pool, self.posts
        workers = {k: v[: pool.n] for k, v in pool.a.items()}
        sim = Simulation(world=self.world, months=self.cal.months, workers=workers, n_workers=pool.n,
                         slot_occupant=self.occupant, slot_active=posts.active, scenario=self.scenario,
                         policy_m=self.policy_m)
        sim.records = {k: _concat(v) for k, v in self.rec.items()}
        sim.records["housing"] = dict(rent=self.housing.rent, price=self.housing.price)
        sim.records["day_rate"] = self.day_rate
        sim.records["slot_team"], sim.records["slot_fte"], sim.records["slot_mgr"] = posts.team, posts.fte, posts.manager
        sim.records["report_year"] = self.cal.report_year
        sim.records["team_area"] = self.team_area
        sim.records["slot_agency_only"] = posts.agency_only
        return sim


def run_months(world: World, scenario: Scenario, start: np.datetime64, n_months: int,
               rng: np.random.Generator, progress=None, year_fit: dict | None = None) -> Simulation:
    """Simulate ``n_months`` months from ``start`` (a month start, datetime64[D]).

    ``rng``: the run's generator (drawn from in a fixed order); ``progress(done, total)``: called after each
    month; ``year_fit`` overrides :data:`~retention_ml.simulate.config.YEAR_FIT` (used when fitting it).
    """
    engine = _Engine(world, scenario, start, n_months, rng, year_fit)
    engine.seed_population()
    for t in range(n_months):
        engine.month(t)
        if progress is not None:
            progress(t + 1, n_months)
    return engine.simulation()


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
