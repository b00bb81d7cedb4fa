"""A class-conditional character n-gram: the baseline a conditioned neural model has to beat.

All names together give a smoothed n-gram (each history backs off, Dirichlet-style, to the history
one character shorter, down to the add-one unigram); each class (a province, say) adds its own
counts of the full-length histories on top, backing off to that shared model:

    P(x | h)   = (N(h, x)   + gamma * P(x | h minus its first character)) / (N(h)   + gamma)
    P_c(x | h) = (N_c(h, x) + beta  * P(x | h))                             / (N_c(h) + beta)

With one class it is the unconditioned n-gram. Classification is Bayes' rule over whole names with
the same prior as villanueva's (training counts plus one).
"""

import math
from collections import Counter

PAD = "."  # the start and end token, as in villanueva


class ClassNGram:
    def __init__(self, names: list[str], classes: list[str], order: int, beta: float, gamma: float = 2.0):
        self.order, self.beta, self.gamma = order, beta, gamma
        self.classes = sorted(set(classes))
        self.shared, self.shared_totals = Counter(), Counter()  # (history, next) and history, every length
        self.own = {c: Counter() for c in self.classes}  # (full history, next), per class
        self.own_totals = {c: Counter() for c in self.classes}
        unigrams = Counter()
        for name, label in zip(names, classes):
            for history, char in self.events(name):
                unigrams[char] += 1
                for k in range(1, order):
                    self.shared[history[-k:], char] += 1
                    self.shared_totals[history[-k:]] += 1
                self.own[label][history, char] += 1
                self.own_totals[label][history] += 1
        total = sum(unigrams.values())
        self.unigram = {char: (count + 1) / (total + len(unigrams)) for char, count in unigrams.items()}
        prior = Counter(classes)
        self.log_prior = {
            c: math.log((prior[c] + 1) / (len(names) + len(self.classes))) for c in self.classes
        }

    def events(self, name: str):
        padded = PAD * (self.order - 1) + name + PAD
        for i in range(self.order - 1, len(padded)):
            yield padded[i - self.order + 1 : i], padded[i]

    def shared_probability(self, history: str, char: str) -> float:
        p = self.unigram.get(char, 1e-6)
        for k in range(1, self.order):
            short = history[-k:]
            p = (self.shared[short, char] + self.gamma * p) / (self.shared_totals[short] + self.gamma)
        return p

    def log_likelihoods(self, name: str) -> dict[str, float]:
        """log P_c(name) for every class c."""
        totals = dict.fromkeys(self.classes, 0.0)
        for history, char in self.events(name):
            shared = self.beta * self.shared_probability(history, char)
            for c in self.classes:
                totals[c] += math.log(
                    (self.own[c][history, char] + shared) / (self.own_totals[c][history] + self.beta)
                )
        return totals

    def guess(self, name: str) -> str:
        likelihoods = self.log_likelihoods(name)
        return max(self.classes, key=lambda c: self.log_prior[c] + likelihoods[c])

    def accuracy(self, names: list[str], classes: list[str]) -> float:
        return sum(self.guess(name) == label for name, label in zip(names, classes)) / len(names)

    def loss(self, names: list[str], classes: list[str]) -> float:
        """Mean negative log-likelihood per character (end token included), each name's class given."""
        total = sum(self.log_likelihoods(name)[label] for name, label in zip(names, classes))
        return -total / sum(len(name) + 1 for name in names)


def best_classifier(train, val, orders=(2, 3, 4), betas=(1.0, 4.0, 16.0)) -> ClassNGram:
    """The (order, beta) with the best top-1 accuracy on `val`; `train` and `val` are (names, classes)."""
    candidates = [ClassNGram(*train, order, beta) for order in orders for beta in betas]
    return max(candidates, key=lambda model: model.accuracy(*val))
