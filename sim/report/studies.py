"""Report sections of the studies built on many runs: calibrate, attribute, sensitivity.

Each reads the folder's tables as DESIGN sections 9-11 define them, says the main result in
words, shows the folder's own figures (PNG files) and draws one from the table when the
folder has none.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import plots
from sim.comparison import excludes_zero
from sim.report.assumptions import assumptions
from sim.report.page import Section, interval, number
from sim.report.runs import manifest_section, need, read_manifest


def pictures(section: Section, folder: Path, pattern: str, caption: str) -> int:
    """Embed the folder's PNG figures matching ``pattern``; how many there were."""
    found = sorted(folder.glob(pattern))
    for path in found:
        section.png(path, f"{caption}: {path.stem}")
    return len(found)


def calibrate_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    posterior = pd.read_csv(need(folder, "posterior.csv", "a calibration folder's posterior.csv"))
    manifest = read_manifest(folder)
    lines = [f"{r.parameter}: median {number(float(r.median))}, 90% interval {number(float(r.q05))} "
             f"to {number(float(r.q95))} (prior {r.prior})." for r in posterior.itertuples()]
    post = Section("Posterior of the parameters").finding(*lines).table(posterior)
    if not pictures(post, folder, "posterior*.png", "posterior") and (folder / "posterior.parquet").is_file():
        post.figure(posterior_figure(pd.read_parquet(folder / "posterior.parquet")),
                    "posterior of each parameter: the last generation's particles, weighted")
    sections = [post]
    lead = [f"Calibration {manifest.get('name', folder.name)}: {len(posterior)} parameters fitted by "
            "approximate Bayesian computation (sequential Monte Carlo)."]
    if (folder / "predictive.csv").is_file():
        predictive = pd.read_csv(folder / "predictive.csv")
        inside = int(predictive["within_90"].astype(str).str.lower().isin(["true", "1"]).sum())
        verdict = f"{inside} of {len(predictive)} targets lie within the 90% posterior predictive interval."
        lead.append(verdict)
        fit = Section("Posterior predictive against the published targets").finding(verdict)
        fit.figure(predictive_figure(predictive), "target (cross) against the posterior predictive median "
                   "and 90% interval (bar), per scenario and KPI")
        sections.append(fit.table(predictive))
    calibrated = sorted((folder / "calibrated").glob("*.yaml"))
    if calibrated:
        section = Section("Calibrated scenario files")
        for path in calibrated:
            rows = [r for r in assumptions(path.read_text(encoding="utf-8")) if "calibrated" in r.comment]
            section.text(f"calibrated/{path.name}: {len(rows)} calibrated values.")
            section.table(pd.DataFrame([(r.key, r.value, r.comment) for r in rows],
                                       columns=["key", "value", "comment"]))
        sections.append(section)
    sections.append(manifest_section({"(calibration)": manifest}))
    return f"Calibration: {manifest.get('name', folder.name)}", lead, sections


def posterior_figure(particles: pd.DataFrame) -> object:
    """A weighted histogram per parameter of the last generation's particles."""
    names = [c for c in particles.columns if c != "weight"]
    weights = particles["weight"] if "weight" in particles.columns else None
    with plots._style():
        fig, axes = plots._figure(3.4 * len(names), 3.2, len(names))
        for ax, name in zip(axes, names):
            ax.hist(particles[name], bins=20, weights=weights, color="C0")
            ax.set(xlabel=plots.plain(name), ylabel="posterior weight")
        return plots._save(fig, None)


def predictive_figure(predictive: pd.DataFrame) -> object:
    """Targets against the posterior predictive interval, one row per scenario and KPI."""
    with plots._style():
        fig, (ax,) = plots._figure(7, 0.5 * len(predictive) + 1.5)
        labels = [f"{r.scenario}: {r.kpi}" for r in predictive.itertuples()]
        y = list(range(len(predictive)))
        ax.errorbar(predictive["median"], y, xerr=[predictive["median"] - predictive["q05"],
                                                   predictive["q95"] - predictive["median"]],
                    fmt="o", capsize=4, label="posterior predictive (median, 90%)")
        ax.plot(predictive["target"], y, "x", color="C3", markersize=9, label="published target")
        ax.set_yticks(y, labels)
        ax.set(xlabel="value", title="Fit to the published targets")
        ax.legend(loc="best")
        return plots._save(fig, None)


def attribute_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    table = pd.read_csv(need(folder, "attribution.csv", "an attribution folder's attribution.csv"))
    manifest = read_manifest(folder)
    lead, sections = [], []
    for kpi, block in table.groupby("kpi", sort=False):
        total = block[block["element"] == "total"]
        parts = block[block["element"] != "total"].sort_values("shapley", key=abs, ascending=False)
        section = Section(f"What buys what: {kpi}")
        if len(total) and len(parts):
            t, top = total.iloc[0], parts.iloc[0]
            line = (f"{plots.plain(str(kpi))}: the reform changes it by {number(float(t.shapley))} "
                    f"({interval(t.shapley, t.ci_low, t.ci_high)}); the largest part, "
                    f"{number(float(top.shapley))}, comes from {top.element}.")
            section.finding(line)
            lead.append(line)
        for r in parts.itertuples():
            if excludes_zero(r.ci_low, r.ci_high):
                section.finding(f"{r.element}: {number(float(r.shapley))} [{number(float(r.ci_low))}, "
                                f"{number(float(r.ci_high))}], share {number(float(r.share))}.")
        if not pictures(section, folder, f"*{kpi}*.png", "waterfall"):
            section.figure(waterfall(block, str(kpi)), "each element's Shapley value, adding up to the total")
        sections.append(section.table(block))
    extra = Section("Combinations and interactions")
    for name in ("interactions.csv", "combinations.csv"):
        if (folder / name).is_file():
            extra.table(pd.read_csv(folder / name), name)
    sections += [extra, manifest_section({"(attribution)": manifest})]
    return f"Attribution: {manifest.get('name', folder.name)}", lead[:6], sections


def waterfall(block: pd.DataFrame, kpi: str) -> object:
    """Each element's Shapley value as a step from 0 to the total, with its interval."""
    parts = block[block["element"] != "total"]
    with plots._style():
        fig, (ax,) = plots._figure(7, 4.2)
        start = 0.0
        for i, r in enumerate(parts.itertuples()):
            ax.bar(i, r.shapley, bottom=start, color="C2" if r.shapley >= 0 else "C3",
                   yerr=[[r.shapley - r.ci_low], [r.ci_high - r.shapley]], capsize=3)
            start += float(r.shapley)
        ax.bar(len(parts), start, color="C0")
        ax.set_xticks(range(len(parts) + 1), [*parts["element"], "total"], rotation=30, ha="right")
        ax.set(ylabel=plots.plain(kpi), title=f"What buys what: {plots.plain(kpi)}")
        return plots._save(fig, None)


def sensitivity_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    table = pd.read_csv(need(folder, "sensitivity.csv", "a sensitivity folder's sensitivity.csv"))
    manifest = read_manifest(folder)
    measure = "mu_star" if "mu_star" in table.columns else "ST"
    lead, sections = [], []
    for output, block in table.groupby("output", sort=False):
        ranked = block.sort_values(measure, ascending=False)
        line = (f"{output}: the most influential parameter is {ranked.iloc[0]['parameter']} "
                f"({measure} {number(float(ranked.iloc[0][measure]))})"
                + (f", then {ranked.iloc[1]['parameter']}" if len(ranked) > 1 else "") + ".")
        lead.append(line)
        section = Section(f"Which assumptions matter: {output}").finding(line)
        if not pictures(section, folder, f"*{_safe(str(output))}*.png", "sensitivity"):
            section.figure(influence(ranked, measure, str(output)), f"{measure} per parameter")
        sections.append(section.table(ranked))
    method = "Morris elementary effects" if measure == "mu_star" else "Sobol indices"
    sections.append(manifest_section({"(sensitivity)": manifest}))
    return f"Sensitivity: {manifest.get('name', folder.name)} ({method})", lead[:6], sections


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "*" for c in text)


def influence(ranked: pd.DataFrame, measure: str, output: str) -> object:
    conf = f"{measure}_conf"
    with plots._style():
        fig, (ax,) = plots._figure(7, 0.45 * len(ranked) + 1.6)
        ax.barh([plots.plain(p) for p in ranked["parameter"]], ranked[measure],
                xerr=ranked[conf] if conf in ranked.columns else None, capsize=3, color="C0")
        ax.invert_yaxis()
        ax.set(xlabel=measure, title=output)
        return plots._save(fig, None)
