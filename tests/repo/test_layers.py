"""The package's layers, read from every import (module level, inside functions, under TYPE_CHECKING):
compile never reaches up to boards, links or evaluation; the IR depends on nothing; nothing imports
the CLI; across packages only a package's public face (its __init__'s __all__) is used."""
import ast
import importlib

from conftest import ROOT

PKG = ROOT / "tinydeploy"
FLAT_ALLOWED = 6
LAYERS = ["compile", "target", "link", "evaluate", "quantize", "hil", "cli", "doctor", "testing"]


def imports():
    """(importing module, imported module, names) for every `import`/`from` statement in tinydeploy."""
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield module, a.name, []
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                yield module, target, [a.name for a in node.names]


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tinydeploy" and parts[1] in LAYERS else None


def test_nothing_imports_the_cli():
    bad = [(m, t) for m, t, _ in imports() if layer(t) == "cli" and layer(m) != "cli"
           and m != "tinydeploy.__main__"]
    assert not bad, bad


def test_compile_reaches_nothing_above_it():
    above = {"target", "link", "evaluate", "hil", "cli", "doctor", "testing"}
    foreign = ("platformio", "serial", "SCons", "labgrid")
    bad = [(m, t) for m, t, _ in imports() if layer(m) == "compile"
           and (layer(t) in above or t.split(".")[0] in foreign)]
    assert not bad, bad


def test_the_ir_depends_on_nothing_of_the_package():
    bad = [t for m, t, _ in imports() if m == "tinydeploy.compile.ir" and t.startswith("tinydeploy")]
    assert not bad, bad


def test_other_packages_use_only_a_package_s_public_face():
    bad = []
    for m, t, names in imports():
        if layer(t) is None or layer(t) == layer(m) or m == "tinydeploy.__main__":
            continue
        root = f"tinydeploy.{layer(t)}"
        if t != root:
            bad.append(f"{m} imports {t} (use {root})")
            continue
        public = set(getattr(importlib.import_module(root), "__all__", ()))
        bad += [f"{m} imports {n} from {root}, which does not export it" for n in names if n not in public]
    assert not bad, "\n".join(bad)


def test_few_modules_sit_flat_in_the_package():
    flat = sorted(p.name for p in PKG.glob("*.py"))
    assert len(flat) <= FLAT_ALLOWED, flat


def test_the_layer_test_sees_violations():
    """The checks above read real imports: a function-level import of the CLI in compile would show."""
    found = list(imports())
    assert any(m.startswith("tinydeploy.compile.") for m, _, _ in found)
    assert any(t == "tinydeploy.compile" and m.startswith("tinydeploy.target") for m, t, _ in found)
    inner = [(m, t) for m, t, _ in found if m == "tinydeploy.target.build" and t == "tinydeploy.evaluate"]
    assert inner, "imports inside functions are read too"


def test_no_public_name_is_also_a_submodule():
    """Importing a submodule binds it on its package: a public name shared with a submodule would turn
    into the module once that submodule is loaded (as link.flash did)."""
    bad = []
    for name in LAYERS:
        package = importlib.import_module(f"tinydeploy.{name}")
        subs = {p.stem for p in (PKG / name).glob("*.py")} | {p.name for p in (PKG / name).iterdir() if p.is_dir()}
        bad += [f"tinydeploy.{name}.{n}" for n in getattr(package, "__all__", ()) if n in subs]
    assert not bad, bad
