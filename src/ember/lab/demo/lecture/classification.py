"""Section 8: "cats vs dogs" — binary classification, with handwritten 3s and 8s standing in."""
from __future__ import annotations

import ember

from .. import plots
from ..runner import Context
from ember.lab.datasets import digits

NAMES = ("cat", "dog")


def _data():
    train, test = digits(classes=(3, 8))                 # scikit-learn's shipped 8×8 digits: 3s and 8s
    pixels, digit = train[0]                             # 64 pixels in [0, 1], and the digit it shows
    return train, test, pixels, digit


def _train(train, epochs):
    from tqdm import tqdm

    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(64, 16), ember.nn.ReLU(), ember.nn.Linear(16, 1))
    loss_fn = ember.nn.BCEWithLogitsLoss()               # sigmoid + binary cross-entropy, stable
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = ember.utils.data.DataLoader(train, batch_size=32, shuffle=True,
                                         generator=ember.Generator().manual_seed(0))
    bar = tqdm(range(epochs), desc="training", unit="epoch")
    for epoch in bar:
        for images, digit_labels in loader:
            labels = (digit_labels == 8).float()         # y: 0 = cat (a 3), 1 = dog (an 8)
            optimizer.zero_grad()
            loss = loss_fn(model(images).squeeze(1), labels)
            loss.backward()
            optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    return model


def _summary(model):
    table = ember.summary(model, input_size=(32, 64), col_names=("output_size", "num_params", "mult_adds"))
    return table


def _evaluate(model, test):
    images, digit_labels = next(iter(ember.utils.data.DataLoader(test, batch_size=len(test))))
    labels = (digit_labels == 8).float()
    model.eval()
    with ember.no_grad():
        logits = model(images).squeeze(1)
    predicted = (logits > 0).float()                     # dog when p(dog) = sigmoid(logit) > 0.5
    accuracy = (predicted == labels).float().mean().item()
    return images, labels, predicted, accuracy


def run(ctx: Context) -> dict:
    """Train a small network to tell the two classes apart; report the test accuracy and a PNG."""
    wr = ctx.writer
    epochs = 8 if ctx.fast else 30
    wr.say("The notes: images x = {x₁, x₂, …} with labels y = {0, 1, 0, 0, …}, cats and dogs. There "
           "are no cat photos shipped with Ember or scikit-learn, so two classes of scikit-learn's "
           "handwritten digits stand in: a 3 is a \"cat\" (label 0) and an 8 a \"dog\" (label 1). "
           "Same task, real data, no download.")
    train, test, pixels, digit = ctx.run(_data)
    wr.values([("len(train)", len(train)), ("len(test)", len(test)), ("pixels.shape", pixels.shape),
               ("digit", digit)])
    model = ctx.run(_train, train, epochs)
    wr.values([("model", model)])
    wr.say("ember.summary lists its layers as torchinfo does, from one forward pass on a batch of 32:")
    wr.block(ctx.run(_summary, model))
    images, labels, predicted, accuracy = ctx.run(_evaluate, model, test)
    wr.values([("labels[:8]", labels[:8]), ("predicted[:8]", predicted[:8])])
    wr.table(["test images", "correct", "accuracy"],
             [(len(test), int((predicted == labels).sum().item()), accuracy)])
    ctx.check(accuracy >= 0.95, f"test accuracy {accuracy:.1%} on {len(test)} images the model never saw.")
    titles = [f"{NAMES[int(p)]} {'✓' if p == t else '✗'}" for p, t in zip(predicted[:8].tolist(),
                                                                        labels[:8].tolist())]
    path = plots.labelled_images(ctx.png("classification"), images[:8].reshape(8, 8, 8).numpy(), titles)
    wr.picture(path, "test images with the model's answer (3 = cat, 8 = dog)")
    return {"accuracy": accuracy, "epochs": epochs, "n_test": len(test)}
