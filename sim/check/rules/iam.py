"""IAM, least privilege: each function, the Glue job and the state machine runs as its own role, trusted
by its service alone (the producers' uploader role by the account); no policy grants a wildcard or
anything beyond the wiring; every role grants each call its component's code makes. Common practice
rather than a plan item: sim/infra/iam.py generates the desired grants, and live.py reads the roles
that `desired_roles` names.
"""

from __future__ import annotations

import fnmatch
import json

from sim.check.rules.base import DEPLOY_FIX, Gap, RoleState, Snapshot, _as_list, _builder, _doc, _Findings, check
from sim.infra.spec import Wiring

# Actions whose API takes no resource ARN: "Resource": "*" is the only form. The value is the
# condition key that must then scope the grant (None: the service offers none).
UNSCOPABLE_ACTIONS = {
    "cloudwatch:putmetricdata": "cloudwatch:namespace",
    "xray:puttracesegments": None,
    "xray:puttelemetryrecords": None,
    "xray:getsamplingrules": None,
    "xray:getsamplingtargets": None,
}


def _role_name(arn) -> str:
    return str(arn or "").rsplit("/", 1)[-1]


def _component_roles(snap: Snapshot, f: _Findings) -> dict[str, tuple[str, str]]:
    """component -> (live role name, expected role name)."""
    n, out = snap.names, {}
    builder = f.value(_builder(snap))
    if builder is not None:
        out[f"function {n.builder_function}"] = (_role_name(builder.get("Role")), n.builder_role)
    if snap.glue_mode:
        job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
        if job is not None:
            out[f"job {n.glue_job}"] = (_role_name(job.get("Role")), n.glue_role)
    else:
        conv = f.value(snap.functions.get(n.converter_function, Gap("missing", f"function {n.converter_function}")))
        if conv is not None:
            out[f"function {n.converter_function}"] = (_role_name(conv.get("Role")), n.converter_role)
    sm = f.value(snap.state_machine)
    if sm is not None:
        out[f"state machine {n.state_machine}"] = (_role_name(sm.get("roleArn")), n.sfn_role)
    return out


def trust_principals(document) -> list[str]:
    """Who may assume a role: 'Service:x', 'AWS:y', 'Federated:z' or '*'."""
    out = []
    for st in _as_list(_doc(document).get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if principal == "*":
            out.append("*")
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                out += [f"{kind}:{v}" for v in _as_list(values)]
    return out


def desired_roles(w: Wiring) -> dict[str, tuple[str, dict]]:
    """role name -> (the one principal that may assume it, its inline policy): the components' roles
    and the producers' uploader role (trusted by the account, see sim/infra/iam.py)."""
    from sim.infra import iam

    out = {name: (f"Service:{service}", policy) for name, (service, policy) in iam.roles(w).items()}
    out[w.names.uploader_role] = (f"AWS:arn:aws:iam::{w.account}:root", iam.uploader_policy(w))
    return out


@check("iam-own-roles", "Each function, the job and the state machine has its own role, trusted by its service only "
       "(the uploader role by the account)",
       "common practice (least privilege: one role per component); sim/infra/iam.py")
def iam_own_roles(snap: Snapshot):
    f = _Findings()
    components = _component_roles(snap, f)
    users: dict[str, list[str]] = {}
    for component, (live, want) in components.items():
        users.setdefault(live, []).append(component)
        if live != want:
            f.problem(f"{component} runs as {live or 'no role'}, not its own role {want}",
                      f"give {component} role {want}; {DEPLOY_FIX}")
    for role, who in users.items():
        if len(who) > 1:
            f.problem(f"{' and '.join(who)} share role {role}: each gets the other's grants", DEPLOY_FIX)
    account = snap.wiring.account
    for name, (principal, _) in desired_roles(snap.wiring).items():
        state = snap.roles.get(name)
        role = f.value(state.role if state else Gap("missing", f"role {name}"))
        if role is None:
            continue
        same = {principal, f"AWS:{account}"} if principal.endswith(f"::{account}:root") else {principal}
        principals = trust_principals(role.get("AssumeRolePolicyDocument") or {})
        extra = [p for p in principals if p not in same]
        if extra:
            f.problem(f"role {name} can also be assumed by {', '.join(extra)}", DEPLOY_FIX)
        if not same & set(principals):
            f.problem(f"role {name} does not trust {principal}: its users cannot assume it", DEPLOY_FIX)
    return f.result(", ".join(f"{c} -> {live}" for c, (live, _) in components.items())
                    + f"; {snap.names.uploader_role} trusted by the account only")


def _condition_values(statement: dict, key: str) -> list[str]:
    out = []
    for operator, block in (statement.get("Condition") or {}).items():
        if isinstance(block, dict):
            for k, v in block.items():
                if k.lower() == key.lower():
                    out += [str(x) for x in _as_list(v)]
    return out


def statement_problems(statement: dict) -> list[str]:
    """Why one policy statement is broader than least privilege (empty: it is not)."""
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    if "NotAction" in statement:
        problems.append("NotAction allows every action but the listed ones")
    if "NotResource" in statement:
        problems.append("NotResource allows every resource but the listed ones")
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    resources = [str(r) for r in _as_list(statement.get("Resource"))]
    for action in actions:
        if "*" in action:
            problems.append(f"wildcard action {action!r}")
    if "*" in resources:
        scopable = [a for a in actions if a.lower() not in UNSCOPABLE_ACTIONS]
        if scopable:
            problems.append(f'"Resource": "*" for {", ".join(scopable)} (these take resource ARNs)')
        for action in actions:
            key = UNSCOPABLE_ACTIONS.get(action.lower())
            if key and not [v for v in _condition_values(statement, key) if v.strip("*")]:
                problems.append(f'{action} on "*" without a {key} condition')
    for resource in resources:
        parts = resource.split(":", 5)
        if resource != "*" and len(parts) == 6 and (parts[5] in ("*", "*/*") or "*" in parts[3] or "*" in parts[4]):
            problems.append(f"resource {resource!r} spans every resource of its service")
    return problems


def _norm_condition(condition) -> str:
    norm = {}
    for operator, block in (condition or {}).items():
        if isinstance(block, dict):
            norm[operator.lower()] = {k.lower(): sorted(str(v) for v in _as_list(vals)) for k, vals in block.items()}
    return json.dumps(norm, sort_keys=True)


def grants(document) -> set[tuple[str, str, str]]:
    """(action, resource, condition) triples an Allow policy grants; actions lower-cased (IAM ignores case)."""
    out = set()
    for st in _as_list(_doc(document).get("Statement")):
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            continue
        cond = _norm_condition(st.get("Condition"))
        for action in _as_list(st.get("Action")):
            for resource in _as_list(st.get("Resource")):
                out.add((str(action).lower(), str(resource), cond))
    return out


def _covers(have: tuple[str, str, str], want: tuple[str, str, str]) -> bool:
    return (fnmatch.fnmatchcase(want[0], have[0]) and fnmatch.fnmatchcase(want[1], have[1])
            and (have[2] == want[2] or have[2] == "{}"))


def _live_documents(f: _Findings, name: str, state: RoleState | None) -> list[tuple[str, dict]] | None:
    """(label, document) of every policy on a role, inline and attached; None when unreadable."""
    if state is None:
        f.value(Gap("missing", f"role {name}"))
        return None
    if f.value(state.role) is None:
        return None
    inline, attached = f.value(state.inline), f.value(state.attached)
    if inline is None or attached is None:
        return None
    docs = [(f"inline policy {p}", _doc(d)) for p, d in inline.items()]
    for arn, doc in attached.items():
        doc = f.value(doc)
        if doc is not None:
            docs.append((f"managed policy {arn}", _doc(doc)))
    return docs


def _readable_roles(snap: Snapshot, f: _Findings):
    """(role name, its desired policy, its live (label, document) pairs) for each desired role whose
    policies could be read; `f` records why the others could not."""
    for name, (_, desired) in desired_roles(snap.wiring).items():
        docs = _live_documents(f, name, snap.roles.get(name))
        if docs is not None:
            yield name, desired, docs


def _fmt_grant(g: tuple[str, str, str]) -> str:
    return f"{g[0]} on {g[1]}" + (f" if {g[2]}" if g[2] != "{}" else "")


def _fmt_grants(gs: list[tuple[str, str, str]], shown: int = 4) -> str:
    return ", ".join(_fmt_grant(g) for g in gs[:shown]) + (f" and {len(gs) - shown} more" if len(gs) > shown else "")


@check("iam-least-privilege", "Role policies grant no wildcard and nothing beyond the wiring",
       "common practice (least privilege); sim/infra/iam.py generates the grants each component's code needs")
def iam_least_privilege(snap: Snapshot):
    f = _Findings()
    summary_ = []
    for name, desired, docs in _readable_roles(snap, f):
        want = grants(desired)
        count = 0
        for label, doc in docs:
            for st in _as_list(doc.get("Statement")):
                for problem in statement_problems(st):
                    f.problem(f"role {name}, {label}" + (f" ({st['Sid']})" if st.get("Sid") else "") + f": {problem}",
                              f"scope the statement to the resources it needs; {DEPLOY_FIX} for the pipeline policy")
            extra = sorted(grants(doc) - want)
            count += len(grants(doc))
            if extra:
                f.problem(f"role {name}, {label} grants beyond the wiring: {_fmt_grants(extra)}",
                          "`sim deploy` restores the role: it rewrites the `pipeline` policy, deletes other inline "
                          "policies and detaches managed ones")
        summary_.append(f"{name} {count} grant{'s' if count != 1 else ''}")
    return f.result(", ".join(summary_) + "; only cloudwatch:PutMetricData uses \"*\", held to the pipeline's "
                    "namespace by a condition")


@check("iam-grants-complete", "Each role grants every call its component's code makes",
       "sim/infra/iam.py (the grants the code needs); a missing grant fails the pipeline at run time on AWS")
def iam_grants_complete(snap: Snapshot):
    f = _Findings()
    done = []
    for name, desired, docs in _readable_roles(snap, f):
        have = set().union(*(grants(doc) for _, doc in docs)) if docs else set()
        missing = sorted(g for g in grants(desired) if not any(_covers(h, g) for h in have))
        if missing:
            f.problem(f"role {name} lacks {_fmt_grants(missing)}", DEPLOY_FIX)
        else:
            done.append(name)
    return f.result(f"{', '.join(done)} grant what their code calls")
