"""The experiment runner at the fast budget: the result's schema and provenance, resuming after
an interrupt (between runs and inside one), the stale-configuration check failing on purpose,
and the stored reference results matching the experiments' current definitions."""

import json
import subprocess
import sys

import pytest

from course.experiments import EXPERIMENTS, StaleResult, load_results, run_experiment
from course.experiments.runner import check_current, config_hash, experiment

PROVENANCE = {"date", "commit", "uncommitted_changes", "machine", "device", "precision", "data",
              "wall_seconds"}  # fmt: skip


def without_timings(history: dict) -> dict:
    """The history as stored (JSON: tuples become lists), without its timings."""
    stored = json.loads(json.dumps(history))
    return {k: v for k, v in stored.items() if k not in ("seconds", "images_per_second")}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_fast_run_writes_a_complete_result(name, tmp_path):
    out = tmp_path / f"{name}.json"
    result = run_experiment(name, "fast", out=out, work=tmp_path / "work", progress=False)
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    config = experiment(name).CONFIGS["fast"]
    assert result["config"] == config and result["config_hash"] == config_hash(config)
    assert set(result["provenance"]) == PROVENANCE
    assert result["provenance"]["wall_seconds"] > 0 and result["provenance"]["machine"]["cores"]
    planned = experiment(name).plan(config, {})
    assert {key for key, _ in planned} <= set(result["runs"])
    for run in result["runs"].values():
        assert run.get("diverged") or len(run["history"]["epoch"]) == config["epochs"]
    assert result["summary"] == experiment(name).summarize(result)
    assert len(result["runs"]) == experiment(name).planned_runs(config)
    check_current(result)  # made just now: current
    # what a notebook's rerun shows of it: its report, and which statements hold (none raises)
    from course.experiments.live import compare_with_reference

    shown = str(compare_with_reference(result))
    assert "what this run changes" in shown and "statements the text makes" in shown


def test_an_interrupted_experiment_resumes_without_redoing_finished_runs(tmp_path, monkeypatch):
    """First between runs, then inside a run (fit's checkpoint): the result equals a straight
    run's, and no finished run is trained twice."""
    module = experiment("dropout")
    straight = run_experiment("dropout", "fast", out=tmp_path / "a.json", work=tmp_path / "a",
                              progress=False)  # fmt: skip

    calls = []
    real_train = module.train

    def train_then_stop(config, settings, data, checkpoint):
        calls.append(settings)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C before the second run finished
        return real_train(config, settings, data, checkpoint)

    monkeypatch.setattr(module, "train", train_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("dropout", "fast", out=tmp_path / "b.json", work=tmp_path / "b",
                       progress=False)  # fmt: skip
    assert len(json.loads((tmp_path / "b" / "finished.json").read_text())["runs"]) == 1

    import course.training.loop as loop

    real_epoch, epochs_seen = loop._train_one_epoch, []

    def stop_in_epoch_two(net, batches, epoch, step):
        epochs_seen.append(epoch)
        if epoch == 2 and epochs_seen.count(2) == 1:
            raise KeyboardInterrupt  # inside fit: it saves and returns an interrupted history
        return real_epoch(net, batches, epoch, step)

    monkeypatch.setattr(module, "train", real_train)
    monkeypatch.setattr(loop, "_train_one_epoch", stop_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("dropout", "fast", out=tmp_path / "b.json", work=tmp_path / "b",
                       progress=False)  # fmt: skip
    assert list((tmp_path / "b").glob("*.pt"))  # the half-trained run's checkpoint is kept
    resumed = run_experiment("dropout", "fast", out=tmp_path / "b.json", work=tmp_path / "b",
                             progress=False)  # fmt: skip
    # the interrupted run: epoch 1, epoch 2 cut short, epoch 2 again on resume (not epoch 1);
    # then the two runs still to go, 2 epochs each
    assert epochs_seen == [1, 2, 2, 1, 2, 1, 2]
    assert resumed["runs"].keys() == straight["runs"].keys()
    for key, run in straight["runs"].items():
        assert without_timings(resumed["runs"][key]["history"]) == without_timings(run["history"])
        assert resumed["runs"][key]["test"] == run["test"]


def test_a_changed_configuration_makes_the_stored_result_stale(tmp_path, monkeypatch):
    result = run_experiment("tta", "fast", out=tmp_path / "r.json", work=tmp_path / "w",
                            progress=False)  # fmt: skip
    module = experiment("tta")
    changed = {**module.CONFIGS, "fast": {**module.CONFIGS["fast"], "epochs": 3}}
    monkeypatch.setattr(module, "CONFIGS", changed)
    with pytest.raises(StaleResult, match=r"changed: \['epochs'\].*--budget fast"):
        check_current(result)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_stored_reference_results_are_current(name):
    result = load_results(name)  # raises StaleResult if the definition changed since
    assert result["budget"] == "reference" and not result["provenance"]["uncommitted_changes"]
    assert result["summary"] == experiment(name).summarize(result)
    assert len(result["runs"]) == experiment(name).planned_runs(result["config"])


def test_mcnemar_matches_an_exact_binomial_test():
    from scipy.stats import binomtest

    from course.experiments.tta import mcnemar_p

    for a, b in ((0, 5), (3, 3), (12, 30), (41, 17), (0, 0)):
        expected = binomtest(min(a, b), a + b, 0.5).pvalue if a + b else 1.0
        assert mcnemar_p(a, b) == pytest.approx(expected)


def test_command_line_lists_and_refuses_unknown_names():
    listed = subprocess.run([sys.executable, "-m", "course.experiments", "list"],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert listed.returncode == 0 and all(f"{n}:" in listed.stdout for n in EXPERIMENTS)
    wrong = subprocess.run([sys.executable, "-m", "course.experiments", "run", "lenet"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert wrong.returncode == 2 and "invalid choice: 'lenet'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_the_readme_states_the_stored_wall_times():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in EXPERIMENTS:
        result = load_results(name)
        minutes = result["provenance"]["wall_seconds"] / 60
        assert f"| `{name}` |" in readme
        assert f"{len(result['runs'])} runs, {minutes:.0f} min |" in readme


def test_trained_weights_are_kept_beside_the_result_and_checked_when_read(tmp_path, monkeypatch):
    from course.experiments import runner

    out = tmp_path / "trained_alexnet.json"
    result = run_experiment("trained_alexnet", "fast", out=out, work=tmp_path / "work",
                            progress=False)  # fmt: skip
    stored = result["weights"]
    assert stored["file"] == "trained_alexnet.pt" and stored["runs"] == list(result["runs"])
    assert "state_dict" not in json.dumps(result)  # tensors live in the .pt file, not the JSON

    # trained_weights reads the reference result; point it at this one
    monkeypatch.setattr(runner, "results_path", lambda name: tmp_path / f"{name}.json")
    monkeypatch.setattr(runner, "check_current", lambda result: None)  # a fast result
    key = stored["runs"][1]
    state = runner.trained_weights("trained_alexnet", key)
    model = experiment("trained_alexnet").build(result["runs"][key]["arm"])
    model.load_state_dict(state)  # every tensor, of the right shape
    with pytest.raises(ValueError, match=r"no weights for run 'resnet, seed 0'"):
        runner.trained_weights("trained_alexnet", "resnet, seed 0")
    weights_file = tmp_path / "trained_alexnet.pt"
    weights_file.write_bytes(weights_file.read_bytes() + b"\0")  # altered after the result
    with pytest.raises(StaleResult, match="SHA-256 differs"):
        runner.trained_weights("trained_alexnet", key)


def test_an_unwritable_output_folder_is_found_before_any_training(tmp_path, monkeypatch):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the folder should be")  # unwritable even for root
    trained = []
    module = experiment("dropout")
    monkeypatch.setattr(module, "train", lambda *a: trained.append(a) or {})
    with pytest.raises(PermissionError, match=r"dropout: cannot write to .*results.* nothing was "
                       r"trained"):  # fmt: skip
        run_experiment("dropout", "fast", out=blocker / "r.json", work=tmp_path / "work")
    assert not trained
