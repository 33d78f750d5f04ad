"""wasiwheel's driver for a foreign build backend (run by the host interpreter).

Usage: python driver.py REQUEST.json

REQUEST names the project (srcdir), the output directory, the backend's config
settings, the cross environment's variables and its wrapper directory, and
where wasiwheel's own interpreter finds `build` (host_packages), for a host
interpreter without it. The
``build`` package makes an isolated environment with the project's build
requirements (PEP 517/518), installed for the host as usual; only the
backend's hooks run with the cross environment (the target's sysconfig, the
compiler wrappers first on PATH). The wheel's name goes to REQUEST's result
file. Exit status 3: ``build`` is missing.
"""

import json
import os
import subprocess
import sys


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    try:
        import build
        import build.env
    except ImportError:
        # The packages of the interpreter wasiwheel runs in (its own
        # dependencies), for this driver only: the backend never sees them.
        sys.path.extend(p for p in req["host_packages"] if p not in sys.path)
        try:
            import build
            import build.env
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
        env["PATH"] = req["path"] + os.pathsep + env.get("PATH", "")
        subprocess.run(cmd, cwd=cwd, env=env, check=True)

    config = {k: (v[0] if len(v) == 1 else v) for k, v in req["config"].items()}
    try:
        with build.env.DefaultIsolatedEnv() as env:
            builder = build.ProjectBuilder.from_isolated_env(env, req["srcdir"], runner=runner)
            env.install(builder.build_system_requires)
            env.install(builder.get_requires_for_build("wheel", config) | set(req["extra_requires"]))
            wheel = builder.build("wheel", req["outdir"], config)
    except build.BuildBackendException as e:
        print(f"wasiwheel: the build backend failed: {e}", file=sys.stderr)
        return 1
    except (build.BuildException, subprocess.CalledProcessError) as e:
        print(f"wasiwheel: the build failed: {e}", file=sys.stderr)
        return 1
    with open(req["result"], "w", encoding="utf-8") as f:
        json.dump({"wheel": wheel}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
