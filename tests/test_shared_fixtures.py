"""The shared fixtures of tests/conftest.py behave as their docstrings say."""


def test_a_store_opened_inside_another_leaves_the_outer_one_in_use(scratch_store, sim_model_run, tmp_path):
    import mlflow

    (tmp_path / "inner").mkdir()
    with scratch_store(sim_model_run.root):  # an existing store as the outer one: one new store, not two
        outer = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        with scratch_store(tmp_path / "inner"):
            assert "inner" in mlflow.get_tracking_uri()
        # MLflow's URIs are process globals: the outer module's tests must still talk to the outer store
        assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == outer


def test_the_session_model_is_trained_once_and_shared(sim_model_run, sim_model):
    result, root = sim_model
    assert result is sim_model_run.result and root == sim_model_run.root
    assert result.run_id
