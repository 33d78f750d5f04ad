"""Without a target, the same project builds an ordinary native wheel that
installs and gives the same results on the host."""

import json
import sys
import sysconfig

from conftest import DEMO, RESULTS_SNIPPET, pip_wheel, reference_results, sh


def test_native_wheel_installs_and_matches_reference(tmp_path, isolated_env):
    out = tmp_path / "out"
    pip_wheel(DEMO, out, isolated_env)
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheels[0].name == f"wasidemo-0.3.0-{tag}-{tag}-{platform}.whl"
    sh([sys.executable, "-m", "installer", "--validate-record", "all", "--destdir", tmp_path / "root", wheels[0]])
    target = tmp_path / "site"
    sh([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", target, wheels[0]])
    proc = sh([sys.executable, "-c", RESULTS_SNIPPET], env={"PYTHONPATH": str(target)})
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["platform"] == sys.platform
    assert all(o.endswith(".so") for o in got["origins"])
    assert got["results"] == reference_results()
