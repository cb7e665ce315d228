"""What kgan's callbacks share: who writes files, and when an epoch is due."""


def is_chief(model):
    """Whether this worker writes files: under multi-worker training, only the chief."""
    return model.distribute_strategy.extended.should_checkpoint


def is_due(epoch, every, params):
    """Whether 1-based `epoch` is a multiple of `every` or the last planned epoch."""
    return epoch % every == 0 or epoch == (params or {}).get("epochs")
