"""wasiwheel's driver for a foreign build backend (run by the host interpreter).

Usage: python driver.py REQUEST.json

REQUEST names the project (srcdir), the PEP 517 hook to call and its output
directory, the backend's config settings, the cross environment's variables
and its wrapper directory (both empty outside a cross build), and where
wasiwheel's own interpreter finds `build` (host_packages), for a host
interpreter without it.

* The project's own backend (``backend`` null): the ``build`` package makes an
  isolated environment with the project's build requirements (PEP 517/518),
  installed for the host as usual, and calls ``build_wheel``.
* A backend that wasiwheel wraps (``tool.wasiwheel.backend``, ``backend``
  set): its hooks are called through ``pyproject_hooks``, either in such an
  isolated environment (``isolated``: the project's requirements less
  wasiwheel itself, which is already running) or in the interpreter that runs
  this driver, whose environment a frontend (pip, build, uv) has already
  provisioned from ``[build-system] requires``.

Only the backend's hooks run with the cross environment (the target's
sysconfig, the compiler wrappers first on PATH). The hook's result goes to
REQUEST's result file as ``{"result": …}``: the file name a ``build_*`` hook
returns, the ``.dist-info`` name of ``prepare_metadata_for_build_wheel`` or
the list of a ``get_requires_*`` hook. Exit status 3: ``build`` is missing;
1: the backend or the build failed.
"""

import json
import os
import subprocess
import sys

# What each hook is called with besides the config settings: its output directory or nothing.
HOOKS_WITH_DIRECTORY = {"build_wheel", "build_sdist", "build_editable", "prepare_metadata_for_build_wheel"}
HOOKS_WITHOUT = {"get_requires_for_build_wheel", "get_requires_for_build_sdist", "get_requires_for_build_editable"}


def build_system(srcdir):
    """The ``[build-system]`` table of ``srcdir/pyproject.toml`` (PEP 518)."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11: build depends on tomli there
        import tomli as tomllib
    with open(os.path.join(srcdir, "pyproject.toml"), "rb") as f:
        return tomllib.load(f).get("build-system", {})


def without_wasiwheel(requires):
    """``requires`` (PEP 508 strings) less wasiwheel, which is the one running."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return [r for r in requires if canonicalize_name(Requirement(r).name) != "wasiwheel"]


def call_hook(caller, hook, outdir, config):
    """Call `hook` of the pyproject_hooks `caller`; returns what the hook returns."""
    if hook in HOOKS_WITHOUT:
        return list(getattr(caller, hook)(config))
    if hook == "prepare_metadata_for_build_wheel":
        return caller.prepare_metadata_for_build_wheel(outdir, config, _allow_fallback=True)
    return getattr(caller, hook)(outdir, config)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    backend = req.get("backend")
    hook = req.get("hook", "build_wheel")
    if hook not in HOOKS_WITH_DIRECTORY | HOOKS_WITHOUT:
        print(f"wasiwheel: the driver does not know the hook {hook!r}", file=sys.stderr)
        return 2
    try:
        import build
        import build.env
        import pyproject_hooks
    except ImportError:
        # The packages of the interpreter wasiwheel runs in (its own
        # dependencies), for this driver only: the backend never sees them.
        sys.path.extend(p for p in req["host_packages"] if p not in sys.path)
        try:
            import build
            import build.env
            import pyproject_hooks
        except ImportError:
            print("wasiwheel: the host interpreter has no `build` package", file=sys.stderr)
            return 3

    def runner(cmd, cwd=None, extra_environ=None):
        env = os.environ.copy()
        env.update(extra_environ or {})
        for key, value in req["env"].items():
            if key == "PYTHONPATH" and env.get("PYTHONPATH"):
                value = value + os.pathsep + env["PYTHONPATH"]
            env[key] = value
        if req["path"]:
            env["PATH"] = req["path"] + os.pathsep + env.get("PATH", "")
        subprocess.run(cmd, cwd=cwd, env=env, check=True)

    config = {k: (v[0] if len(v) == 1 else v) for k, v in req["config"].items()}
    srcdir, outdir = req["srcdir"], req["outdir"]
    try:
        if backend is None:
            with build.env.DefaultIsolatedEnv() as env:
                builder = build.ProjectBuilder.from_isolated_env(env, srcdir, runner=runner)
                env.install(builder.build_system_requires)
                env.install(builder.get_requires_for_build("wheel", config) | set(req["extra_requires"]))
                result = os.path.basename(builder.build("wheel", outdir, config))
        elif req["isolated"]:
            table = build_system(srcdir)
            with build.env.DefaultIsolatedEnv() as env:

                def env_runner(cmd, cwd=None, extra_environ=None):
                    runner(cmd, cwd, {**env.make_extra_environ(), **(extra_environ or {})})

                caller = pyproject_hooks.BuildBackendHookCaller(
                    srcdir, backend, python_executable=env.python_executable, runner=env_runner
                )
                env.install(without_wasiwheel(table.get("requires", [])))
                if hook in HOOKS_WITH_DIRECTORY:
                    kind = "sdist" if hook == "build_sdist" else "editable" if hook == "build_editable" else "wheel"
                    more = call_hook(caller, f"get_requires_for_build_{kind}", None, config)
                    env.install(set(more) | set(req["extra_requires"]))
                result = call_hook(caller, hook, outdir, config)
        else:
            caller = pyproject_hooks.BuildBackendHookCaller(
                srcdir, backend, python_executable=sys.executable, runner=runner
            )
            result = call_hook(caller, hook, outdir, config)
    except build.BuildBackendException as e:
        print(f"wasiwheel: the build backend failed: {e}", file=sys.stderr)
        return 1
    except (pyproject_hooks.BackendUnavailable, pyproject_hooks.HookMissing) as e:
        what = getattr(e, "message", None) or getattr(e, "hook_name", None) or e
        print(f"wasiwheel: the build backend `{backend}` cannot be used: {type(e).__name__}: {what}", file=sys.stderr)
        return 1
    except (build.BuildException, subprocess.CalledProcessError) as e:
        print(f"wasiwheel: the build failed: {e}", file=sys.stderr)
        return 1
    with open(req["result"], "w", encoding="utf-8") as f:
        json.dump({"result": result}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
