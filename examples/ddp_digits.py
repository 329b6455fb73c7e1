"""The digits MLP trained data-parallel on several processes with DistributedDataParallel.

Each rank reads its own half (third, ...) of every epoch through ``DistributedSampler``;
``backward()`` averages the gradients across ranks, so the replicas stay identical. The global
batch is 64 whatever the number of ranks, as in ``examples/digits_mlp.py``.

    mpiexec -n 2 python examples/ddp_digits.py [--epochs N] [--out model.safetensors]
    mpiexec -hosts host1,host2 -n 4 python examples/ddp_digits.py      # across machines (MPICH)
"""
from __future__ import annotations

import argparse
import os
import sys

import ember
import ember.distributed as dist
from ember import nn, optim
from ember.lab import datasets
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.lab.train import accuracy
from ember.utils.data import DataLoader, DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from digits_mlp import make_model  # noqa: E402  (the same model as the one-process example)

GLOBAL_BATCH = 64


def main(epochs: int, out: str | None) -> float:
    """Train on all ranks; return the test accuracy (every rank computes the same number)."""
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(rank)  # different on purpose: DDP starts every rank from rank 0's weights
    train_set, test_set = datasets.digits(test_size=0.2, seed=0)
    sampler = DistributedSampler(train_set, seed=0)
    loader = DataLoader(train_set, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    model = DDP(make_model())
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on all ranks
        total = ember.zeros(2, dtype=ember.float64)  # (sum of losses, batches) on this rank
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()  # gradients are averaged across the ranks here
            optimizer.step()
            total += ember.tensor([loss.item(), 1.0], dtype=ember.float64)
        scheduler.step()
        dist.all_reduce(total)
        mean_loss = total[0].item() / total[1].item()
        if rank == 0 and (epoch % 5 == 4 or epoch == epochs - 1):
            print(f"epoch {epoch + 1:3d}  mean loss over {world} ranks {mean_loss:.4f}")
    x_test, y_test = test_set.tensors
    with ember.no_grad():
        test_accuracy = accuracy(model(x_test), y_test)
    first = model.module[0].weight.detach()
    replicas = [ember.zeros_like(first) for _ in range(world)]
    dist.all_gather(replicas, first)
    identical = all(r.tolist() == replicas[0].tolist() for r in replicas)
    if rank == 0:
        print(f"{world} ranks: test accuracy {test_accuracy:.2%}; replicas bit-identical: {identical}")
        if out:
            ember.save(model.module.state_dict(), out)  # no "module." prefix: loads into make_model()
            print(f"weights saved to {out}")
    dist.destroy_process_group()
    return test_accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default=None, help="save the trained weights (safetensors) here")
    args = parser.parse_args()
    main(args.epochs, args.out)
