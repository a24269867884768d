"""Affinity-propagation fixtures from scikit-learn (Debian's python3-sklearn), for
packages/pruners' affinityPropagation test. Rows are seeded random vectors; the
similarity is the normalized inner product the GrOWL pruner uses,
s(i, k) = <x_i, x_k> / max(|x_i|^2, |x_k|^2) (1 for two zero rows).

    /usr/bin/python3 test-fixtures/affinity/make-fixtures.py > test-fixtures/affinity/sklearn.json
"""
import json

import numpy as np
import sklearn
from sklearn.cluster import AffinityPropagation


def similarity(rows):
    n = len(rows)
    s = np.zeros((n, n))
    for i in range(n):
        for k in range(n):
            m = max(rows[i] @ rows[i], rows[k] @ rows[k])
            s[i, k] = 1.0 if m == 0 else rows[i] @ rows[k] / m
    return s


cases = []
rng = np.random.default_rng(7)
for case, (n, d, preference) in enumerate([(8, 4, 0.7), (12, 6, 0.7), (16, 5, 0.5), (20, 8, 0.8), (10, 3, None)]):
    # Clustered rows: a few prototypes plus small perturbations, so the clustering is not a coin toss.
    protos = rng.normal(size=(max(2, n // 4), d))
    rows = np.array([protos[i % len(protos)] * rng.uniform(0.8, 1.2) + rng.normal(scale=0.15, size=d) for i in range(n)])
    rows = rows.astype(np.float32).astype(np.float64)
    s = similarity(rows)
    ap = AffinityPropagation(affinity='precomputed', preference=preference, random_state=0, max_iter=1000).fit(s)
    cases.append({
        'rows': rows.tolist(),
        'preference': preference,
        'labels': ap.labels_.tolist(),
        'centers': ap.cluster_centers_indices_.tolist(),
        'iterations': int(ap.n_iter_),
    })
print(json.dumps({'generator': 'test-fixtures/affinity/make-fixtures.py', 'sklearn': sklearn.__version__, 'cases': cases}, indent=1))
