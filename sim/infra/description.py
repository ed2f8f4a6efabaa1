"""A pipeline under test, as its description file (`pipeline.toml`) names it.

The file says what the user brings (the builder Lambda's code, the tables it expects, the state
machine's ASL, the Glue converter script, where the output lands) and `sim` creates the rest around
it. `sim`'s own pipeline is described the same way (`sim/pipeline/pipeline.toml`) and deployed by
the same code. Every mistake is one SimError naming the file and the key: an unknown key, a missing
file, a value of the wrong kind, a placeholder that does not exist. docs/pipeline-description.md is
the reference; this module is its only reader.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sim.core.errors import SimError
from sim.infra import placeholders

OWN_FILE = Path(__file__).resolve().parent.parent / "pipeline" / "pipeline.toml"
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){0,30}[a-z0-9]$")
_TABLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ATTRIBUTE_TYPES = ("S", "N", "B")
_PROJECTIONS = ("ALL", "KEYS_ONLY")


@dataclass(frozen=True)
class Code:
    """A Lambda function's code and configuration."""

    path: Path  # a folder (its contents are the zip's root) or one .py file
    handler: str
    package: str = ""  # the dotted package the folder is imported as
    requirements: Path | None = None
    exclude: tuple[str, ...] = ()
    runtime: str = "python3.11"
    timeout: int = 60
    memory: int = 512
    environment: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Builder(Code):
    batch_size: int = 10
    batch_window: int = 0
    flush_event: dict | None = None
    flush_schedule: str = ""


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str = ""
    projection: str | tuple[str, ...] = "ALL"


@dataclass(frozen=True)
class Table:
    id: str
    hash_key: str
    range_key: str = ""
    attributes: dict = field(default_factory=dict)
    ttl: str = ""
    indexes: tuple[Index, ...] = ()

    def attribute_type(self, name: str) -> str:
        return self.attributes.get(name, "S")

    @property
    def key_attributes(self) -> list[str]:
        """Every attribute a key of the table or an index names, in first-seen order."""
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Module:
    """Extra Python code for the converter: a .py file, or a folder imported as `package` (default:
    the folder's own name)."""

    path: Path
    package: str = ""
    exclude: tuple[str, ...] = ()

    @property
    def import_name(self) -> str:
        return self.package or (self.path.stem if self.path.is_file() else self.path.name)


@dataclass(frozen=True)
class StateMachine:
    definition: Path
    definition_without_glue: Path | None = None


@dataclass(frozen=True)
class Converter:
    script: Path
    modules: tuple[Module, ...] = ()
    python_version: str = "3.9"
    max_capacity: float = 0.0625
    timeout: int = 60  # minutes
    max_concurrent_runs: int = 10
    max_retries: int = 0
    arguments: dict = field(default_factory=dict)  # DefaultArguments, names as written
    lambda_: Code | None = None


@dataclass(frozen=True)
class Output:
    bucket: str = "${OutputBucket}"
    prefix: str = "parquet/"
    ignore_columns: tuple[str, ...] = ()
    json_text_columns: tuple[str, ...] = ()
    quarantine_prefix: str = ""


@dataclass(frozen=True)
class Alarm:
    name: str
    namespace: str
    metric: str
    description: str = ""
    statistic: str = "Sum"
    threshold: float = 0.0


@dataclass(frozen=True)
class Description:
    path: Path
    name: str
    builder: Builder
    tables: tuple[Table, ...]
    state_machine: StateMachine
    converter: Converter
    output: Output = Output()
    alarms: tuple[Alarm, ...] = ()
    text: str = ""  # the file's description line

    @property
    def own(self) -> bool:
        """`sim`'s own pipeline: its DynamoDB schema and lineage columns allow more checks."""
        return self.path == OWN_FILE

    @property
    def default_prefix(self) -> str:
        return f"sim-{self.name}"

    @property
    def table_ids(self) -> list[str]:
        return [t.id for t in self.tables]

    def allowed_placeholders(self) -> set[str]:
        return placeholders.known(self.table_ids)

    def uses(self, name: str) -> bool:
        """Whether the placeholder `${name}` appears in what is deployed (environments, converter
        arguments, state machines): a setting the code never reads is not one `sim` can claim."""
        token = "${" + name + "}"
        values = [*self.builder.environment.values(), *self.converter.arguments.values()]
        if self.converter.lambda_:
            values += list(self.converter.lambda_.environment.values())
        for asl in (self.state_machine.definition, self.state_machine.definition_without_glue):
            if asl is not None and asl.is_file():
                values.append(asl.read_text(encoding="utf-8"))
        return any(token in v for v in values)


# -- reading ---------------------------------------------------------------------------------

class _Section:
    """One TOML table being read: every key taken is checked; what is left over is unknown."""

    def __init__(self, data: dict, where: str, base: Path, source: Path):
        if not isinstance(data, dict):
            raise SimError(f"{source}: {where} must be a table")
        self.data = dict(data)
        self.where = where
        self.base = base
        self.source = source
        self.taken: set[str] = set()

    def _err(self, key: str, message: str) -> SimError:
        return SimError(f"{self.source}: {self.where} {key}: {message}")

    def _get(self, key: str, kinds: tuple, required: bool, default, kind_name: str):
        self.taken.add(key)
        if key not in self.data:
            if required:
                raise SimError(f"{self.source}: {self.where} is missing {key!r} ({kind_name})")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise self._err(key, f"expected {kind_name}, got {type(value).__name__} {value!r}")
        return value

    def text(self, key: str, default: str | None = None, required: bool = False) -> str:
        return self._get(key, (str,), required, default, "a string")

    def integer(self, key: str, default: int, low: int = 0, high: int | None = None) -> int:
        value = self._get(key, (int,), False, default, "an integer")
        if value < low or (high is not None and value > high):
            raise self._err(key, f"{value} is out of range ({low}..{high if high is not None else ''})")
        return value

    def number(self, key: str, default: float) -> float:
        return float(self._get(key, (int, float), False, default, "a number"))

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, (list,), False, [], "a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise self._err(key, "expected a list of strings")
        return tuple(value)

    def table(self, key: str) -> dict:
        return self._get(key, (dict,), False, {}, "a table")

    def strings(self, key: str) -> dict:
        """A table of string values (environment variables, arguments)."""
        value = self.table(key)
        bad = [k for k, v in value.items() if not isinstance(v, str)]
        if bad:
            raise self._err(key, f"values must be strings (quote numbers): {', '.join(bad)}")
        return dict(value)

    def path(self, key: str, required: bool = False, folder_ok: bool = False, suffix: str = "") -> Path | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        path = (self.base / raw).resolve()
        if not path.exists():
            raise self._err(key, f"{raw!r} does not exist ({path})")
        if path.is_dir() and not folder_ok:
            raise self._err(key, f"{raw!r} is a folder; a file is expected")
        if path.is_file() and suffix and path.suffix != suffix:
            raise self._err(key, f"{raw!r} is not a {suffix} file")
        return path

    def done(self, nested: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.data) - self.taken - set(nested))
        if unknown:
            known = ", ".join(sorted(self.taken | set(nested)))
            raise SimError(f"{self.source}: {self.where} has unknown key(s) {', '.join(map(repr, unknown))}; "
                           f"known: {known}")


def load(path: str | Path | None = None) -> Description:
    """The description in `path` (None: `sim`'s own pipeline), checked whole."""
    source = Path(path).expanduser().resolve() if path else OWN_FILE
    if not source.is_file():
        raise SimError(f"pipeline description {path}: no such file" if path else f"{source} is missing")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SimError(f"{source}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise SimError(f"{source}: not UTF-8 text") from None
    base = source.parent
    top = _Section(data, "the file", base, source)
    name = top.text("name", required=True)
    if not _NAME.match(name):
        raise SimError(f"{source}: name {name!r}: 2-32 lowercase letters, digits and single hyphens "
                       "(it names every resource: sim-<name>-...)")
    text = top.text("description", "")
    builder = _builder(_Section(top.table("builder") or _missing(source, "[builder]"), "[builder]", base, source))
    raw_tables = top._get("tables", (list,), True, None, "an array of tables ([[tables]])")
    tables = tuple(_table(_Section(t, f"[[tables]] #{i + 1}", base, source)) for i, t in enumerate(raw_tables))
    if not tables:
        raise SimError(f"{source}: at least one [[tables]] is needed")
    ids = [t.id for t in tables]
    if len(set(ids)) != len(ids):
        raise SimError(f"{source}: [[tables]] ids repeat: {', '.join(ids)}")
    machine = _state_machine(_Section(top.table("state_machine") or _missing(source, "[state_machine]"),
                                      "[state_machine]", base, source))
    converter = _converter(_Section(top.table("converter") or _missing(source, "[converter]"), "[converter]", base,
                                    source))
    output = _output(_Section(top.table("output"), "[output]", base, source))
    raw_alarms = top._get("alarms", (list,), False, [], "an array of tables ([[alarms]])")
    alarms = tuple(_alarm(_Section(a, f"[[alarms]] #{i + 1}", base, source)) for i, a in enumerate(raw_alarms))
    top.done()
    desc = Description(source, name, builder, tables, machine, converter, output, alarms, text)
    _check_placeholders(desc)
    if builder.flush_schedule and builder.flush_event is None:
        raise SimError(f"{source}: [builder] flush_schedule needs flush_event (what the schedule sends)")
    return desc


def _missing(source: Path, section: str):
    raise SimError(f"{source}: {section} is missing")


def _code(s: _Section, extra: tuple[str, ...] = ()) -> dict:
    code = s.path("code", required=True, folder_ok=True)
    if code.is_file() and code.suffix != ".py":
        raise s._err("code", f"{code.name} is neither a folder nor a .py file")
    handler = s.text("handler", required=True)
    if not _HANDLER.match(handler):
        raise s._err("handler", f"{handler!r} is not module.function (as Lambda names a Python handler)")
    package = s.text("package", "")
    if package and (not _PACKAGE.match(package) or code.is_file()):
        raise s._err("package", f"{package!r}: a dotted Python package name, for a folder")
    runtime = s.text("runtime", "python3.11")
    if not re.match(r"^python3\.\d+$", runtime):
        raise s._err("runtime", f"{runtime!r}: only Python runtimes (python3.X)")
    values = dict(path=code, handler=handler, package=package,
                  requirements=s.path("requirements", suffix=".txt"), exclude=s.texts("exclude"), runtime=runtime,
                  timeout=s.integer("timeout", 60, 1, 900), memory=s.integer("memory", 512, 128, 10240),
                  environment=s.strings("environment"))
    return values


def _builder(s: _Section) -> Builder:
    values = _code(s)
    values["batch_size"] = s.integer("batch_size", 10, 1, 10000)
    values["batch_window"] = s.integer("batch_window", 0, 0, 300)
    raw_event = s.text("flush_event", "")
    if raw_event:
        try:
            event = json.loads(raw_event)
        except ValueError as exc:
            raise s._err("flush_event", f"not JSON: {exc}") from None
        if not isinstance(event, dict):
            raise s._err("flush_event", "must be a JSON object")
        values["flush_event"] = event
    values["flush_schedule"] = s.text("flush_schedule", "")
    if values["flush_schedule"] and not re.match(r"^(rate|cron)\(.+\)$", values["flush_schedule"]):
        raise s._err("flush_schedule", "an EventBridge schedule expression: rate(...) or cron(...)")
    s.done()
    return Builder(**values)


def _table(s: _Section) -> Table:
    tid = s.text("id", required=True)
    if not _TABLE_ID.match(tid):
        raise s._err("id", f"{tid!r}: lowercase letters, digits and hyphens (the table is named <prefix>-<id>)")
    attributes = s.strings("attributes")
    bad = {k: v for k, v in attributes.items() if v not in _ATTRIBUTE_TYPES}
    if bad:
        raise s._err("attributes", f"types are S, N or B: {bad}")
    raw_indexes = s._get("indexes", (list,), False, [], "an array of tables ([[tables.indexes]])")
    indexes = []
    for i, raw in enumerate(raw_indexes):
        x = _Section(raw, f"{s.where} [[tables.indexes]] #{i + 1}", s.base, s.source)
        projection_raw = x._get("projection", (str, list), False, "ALL", '"ALL", "KEYS_ONLY" or a list of attributes')
        if isinstance(projection_raw, str) and projection_raw not in _PROJECTIONS:
            raise x._err("projection", f'{projection_raw!r}: "ALL", "KEYS_ONLY" or a list of attribute names')
        if isinstance(projection_raw, list) and not all(isinstance(a, str) for a in projection_raw):
            raise x._err("projection", "a list of attribute names")
        projection = tuple(projection_raw) if isinstance(projection_raw, list) else projection_raw
        indexes.append(Index(x.text("name", required=True), x.text("hash_key", required=True),
                             x.text("range_key", ""), projection))
        x.done()
    table = Table(tid, s.text("hash_key", required=True), s.text("range_key", ""), attributes, s.text("ttl", ""),
                  tuple(indexes))
    s.done()
    names = [i.name for i in table.indexes]
    if len(set(names)) != len(names):
        raise s._err("indexes", f"index names repeat: {', '.join(names)}")
    return table


def _state_machine(s: _Section) -> StateMachine:
    machine = StateMachine(s.path("definition", required=True), s.path("definition_without_glue"))
    s.done()
    return machine


def _converter(s: _Section) -> Converter:
    script = s.path("script", required=True, suffix=".py")
    modules = []
    raw_modules = s._get("modules", (list,), False, [], "a list of paths or {path, package} tables")
    for i, raw in enumerate(raw_modules):
        package, exclude = "", ()
        if isinstance(raw, dict):
            m = _Section(raw, f"[converter] modules #{i + 1}", s.base, s.source)
            raw, package, exclude = m.text("path", required=True), m.text("package", ""), m.texts("exclude")
            m.done()
        if not isinstance(raw, str):
            raise s._err("modules", "entries are paths or {path, package} tables")
        path = (s.base / raw).resolve()
        if not path.exists():
            raise s._err("modules", f"{raw!r} does not exist ({path})")
        if path.is_file() and (path.suffix != ".py" or package):
            raise s._err("modules", f"{raw!r}: a .py file (without package), or a folder")
        if package and not _PACKAGE.match(package):
            raise s._err("modules", f"{package!r} is not a dotted Python package name")
        modules.append(Module(path, package, exclude))
    version = s.text("python_version", "3.9")
    if version not in ("3", "3.9"):
        raise s._err("python_version", f"{version!r}: Glue's Python shell runs 3.9")
    capacity = s.number("max_capacity", 0.0625)
    if capacity not in (0.0625, 1.0):
        raise s._err("max_capacity", f"{capacity}: a Python-shell job takes 0.0625 or 1 DPU")
    arguments = s.strings("arguments")  # names as written: Glue's own (library-set) have no dashes
    raw_lambda = s.table("lambda")
    lambda_ = None
    if raw_lambda:
        ls = _Section(raw_lambda, "[converter.lambda]", s.base, s.source)
        lambda_ = Code(**_code(ls))
        ls.done()
    converter = Converter(script, tuple(modules), version, capacity, s.integer("timeout", 60, 1, 2880),
                          s.integer("max_concurrent_runs", 10, 1, 1000), s.integer("max_retries", 0, 0, 10),
                          arguments, lambda_)
    s.done()
    return converter


def _output(s: _Section) -> Output:
    prefix = s.text("prefix", "parquet/")
    if prefix and not prefix.endswith("/"):
        raise s._err("prefix", f"{prefix!r}: a key prefix ending in '/'")
    quarantine = s.text("quarantine_prefix", "")
    if quarantine and not quarantine.endswith("/"):
        raise s._err("quarantine_prefix", f"{quarantine!r}: a key prefix ending in '/'")
    output = Output(s.text("bucket", "${OutputBucket}"), prefix, s.texts("ignore_columns"),
                    s.texts("json_text_columns"), quarantine)
    s.done()
    return output


def _alarm(s: _Section) -> Alarm:
    alarm = Alarm(s.text("name", required=True), s.text("namespace", required=True), s.text("metric", required=True),
                  s.text("description", ""), s.text("statistic", "Sum"), s.number("threshold", 0.0))
    if alarm.statistic not in ("Sum", "Average", "Maximum", "Minimum", "SampleCount"):
        raise s._err("statistic", f"{alarm.statistic!r}: Sum, Average, Maximum, Minimum or SampleCount")
    s.done()
    return alarm


def _check_placeholders(desc: Description) -> None:
    """Every placeholder in every value and ASL file exists (one error for the first that does not)."""
    allowed = desc.allowed_placeholders()
    src = desc.path
    for key, value in desc.builder.environment.items():
        placeholders.check(value, allowed, f"{src}: [builder.environment] {key}")
    if desc.converter.lambda_:
        for key, value in desc.converter.lambda_.environment.items():
            placeholders.check(value, allowed, f"{src}: [converter.lambda.environment] {key}")
    for key, value in desc.converter.arguments.items():
        placeholders.check(value, allowed, f"{src}: [converter.arguments] {key}")
    placeholders.check(desc.output.bucket, allowed, f"{src}: [output] bucket")
    bucket_placeholders = {"${LandingBucket}", "${OutputBucket}", "${ManifestBucket}", "${ArtifactsBucket}"}
    if desc.output.bucket not in bucket_placeholders:
        raise SimError(f"{src}: [output] bucket {desc.output.bucket!r}: the placeholder of a bucket sim creates "
                       f"({', '.join(sorted(bucket_placeholders))})")
    for alarm in desc.alarms:
        placeholders.check(alarm.namespace, allowed, f"{src}: [[alarms]] {alarm.name} namespace")
    for asl in (desc.state_machine.definition, desc.state_machine.definition_without_glue):
        if asl is not None:
            try:
                placeholders.check(asl.read_text(encoding="utf-8"), allowed, str(asl))
            except UnicodeDecodeError:
                raise SimError(f"{asl}: not UTF-8 text") from None
