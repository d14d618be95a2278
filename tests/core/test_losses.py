import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnbasics import losses

fast = settings(max_examples=40, deadline=None)
REDUCTIONS = ["mean", "sum", "none"]
NO_WARNINGS = {"over": "raise", "divide": "raise", "invalid": "raise"}

# ---- inputs; the reference numbers below were computed once with torch 2.13.0 in float64 ----------
PRED = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.25]])
TGT = np.array([[1.0, 1.0, 1.0], [0.0, 0.5, -0.75]])
# F.mse_loss(PRED, TGT, reduction=r)
MSE = {"mean": 1.3333333333333333, "sum": 8.0, "none": [[0.25, 4.0, 1.0], [2.25, 0.25, 0.25]]}

P_CLAMP = np.array([0.0, 1e-50, 0.3, 0.9, 1.0, 1.0])
Y_CLAMP = np.array([1.0, 1.0, 0.25, 1.0, 0.0, 1.0])
# F.binary_cross_entropy(P_CLAMP, Y_CLAMP, reduction=r): log(0) and log(1e-50) clamp at -100
BCE = {
    "mean": 50.112309987448896,
    "sum": 300.6738599246934,
    "none": [100.0, 100.0, 0.5684994090355333, 0.10536051565782628, 100.0, 0.0],
}
P = np.array([0.2, 0.3, 0.7, 0.9])
Y = np.array([1.0, 0.25, 0.0, 1.0])
# p.grad after F.binary_cross_entropy(P, Y).backward()
BCE_GRAD_MEAN = [-1.2499999999999998, 0.059523809523809514, 0.8333333333333331, -0.2777777777777778]

LOGITS = np.array([[0.3, -1.2, 2.0], [-0.7, 0.1, 1.5], [2.5, -0.4, -2.2], [0.0, 0.9, -1.1]])
YB = np.array([[1.0, 0.0, 1.0], [0.25, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])
POS_WEIGHT = np.array([2.0, 0.5, 3.0])
# F.binary_cross_entropy_with_logits(LOGITS, YB, reduction=r) and with pos_weight=POS_WEIGHT
BCEL = {
    "mean": 0.8989321997216647,
    "sum": 10.787186396659976,
    "none": [
        [0.5543552444685271, 0.2632824673380312, 0.1269280110429725],
        [0.578186048885458, 0.6443966600735709, 1.7014132779827524],
        [2.5788897342925496, 0.7130152523999527, 2.305083319768696],
        [0.6931471805599453, 0.3411538747320878, 0.2873353251154307],
    ],
}
BCEL_PW = {
    "mean": 1.3711232429191942,
    "sum": 16.45347891503033,
    "none": [
        [1.1087104889370543, 0.2632824673380312, 0.3807840331289175],
        [0.8539825611068226, 0.32219833003678544, 1.7014132779827524],
        [2.5788897342925496, 0.48476143929996446, 6.915249959306088],
        [1.3862943611198906, 0.1705769373660439, 0.2873353251154307],
    ],
}
# LOGITS.grad after F.binary_cross_entropy_with_logits(LOGITS, YB, pos_weight=POS_WEIGHT).backward()
BCEL_PW_GRAD_MEAN = [
    [-0.07092624719805683, 0.019289601375081865, -0.02980073050552941],
    [-0.00710289293418397, -0.019792533855044165, 0.0681312063494703],
    [0.07701181833156305, 0.004248687909638417, -0.22506237772007873],
    [-0.08333333333333333, -0.012043770723958172, 0.02081165786707353],
]

X = np.array(
    [[1.2, -0.3, 0.5, 2.1], [0.1, 0.2, -1.5, 0.7], [-0.8, 1.9, 0.4, 0.0], [2.2, -1.1, 0.3, -0.6], [0.5, 0.5, 1.5, -2.0]]
)
T = np.array([3, 0, 1, 1, 2])
T_IGN = np.array([3, -100, 1, 2, 0])  # row 1 ignored (the default ignore_index)
W = np.array([0.5, 2.0, 1.0, 3.0])
PROBS = np.array(
    [[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.5, 0.5, 0.0], [0.7, 0.1, 0.1, 0.1]]
)
# F.cross_entropy(X, T, reduction=r)
CE = {
    "mean": 1.280489635240275,
    "sum": 6.402448176201375,
    "none": [0.5301482129356366, 1.4180803503820079, 0.364576647567158, 3.5209506280138165, 0.5686923373027561],
}
# F.cross_entropy(X, T_IGN, weight=W, label_smoothing=0.1, reduction=r): 'mean' divides by sum of W[target]
CE_WLS_IGN = {
    "mean": 0.939786927575604,
    "sum": 6.1086150292414265,
    "none": [1.6887992595282597, 0.0, 0.9292316708505476, 2.36726004226468, 1.123324056597938],
}
# X.grad after F.cross_entropy(X, T_IGN, weight=W, label_smoothing=0.1).backward()
CE_WLS_IGN_GRAD_MEAN = [
    [0.10344927205475053, 0.015819441410331182, 0.04848020608221501, -0.16774891954729673],
    [0.0, 0.0, 0.0, 0.0],
    [0.012168759113353687, -0.07493264488240173, 0.04294038945082815, 0.019823496318219863],
    [0.1291332353981486, -0.0028585357859747394, -0.1227057806333962, -0.003568918978777691],
    [-0.05152393606048965, 0.011937602401048812, 0.04951347405490193, -0.009927140395461113],
]
# F.cross_entropy(X, torch.tensor([3, 1, 1, 1, 0]), weight=W, ignore_index=1)
CE_W_IGNORE_1 = 0.6785116592737965
# F.cross_entropy(X, PROBS, weight=W, label_smoothing=0.2, reduction=r): probability targets, 'mean' divides by N
CE_PROB = {
    "mean": 2.6793711162803646,
    "sum": 13.396855581401823,
    "none": [2.529829381383675, 1.008108254026956, 2.7299370522966315, 4.58194970772107, 2.5470311859734904],
}
# X.grad after F.cross_entropy(X, PROBS, weight=W, label_smoothing=0.2).backward()
CE_PROB_GRAD_MEAN = [
    [0.0772060929852109, -0.06387230002584576, -0.013204979911102912, -0.0001288130482622153],
    [-0.04988412202877979, 0.018809047096485877, -0.002910226511285415, 0.0339853014435793],
    [-0.009831080954415459, 0.12570944595461214, 0.0003625848228659672, -0.11624094982306271],
    [0.23953566040172206, -0.17098075030183052, -0.053425138923019255, -0.015129771176872257],
    [-0.01579512132787044, -0.006795121327870446, 0.0968796002521456, -0.07428935759640475],
]
# unnormalised soft targets (rows sum to 1, 2, 0.5, 1, 3): PyTorch's 'mean' still divides by N, not by their sum
PROBS_UNNORMALISED = PROBS * np.array([[1.0], [2.0], [0.5], [1.0], [3.0]])
CE_PROB_UNNORMALISED = 2.6676249754810635  # F.cross_entropy(X, PROBS_UNNORMALISED)
# X.grad after F.cross_entropy(X, PROBS_UNNORMALISED).backward()
CE_PROB_UNNORMALISED_GRAD = [
    [0.027854691238838665, -0.029322175080024274, -0.0362360636133172, 0.037703547454502793],
    [-0.3031286124931856, 0.10705944026616794, 0.01955799583093679, 0.17651117639608083],
    [-0.020332640293666295, 0.04444906029372682, -0.00950382005450278, -0.014612599945557752],
    [0.16035125272244066, -0.09408573790283968, -0.07601648453968476, 0.009750969720083769],
    [-0.2950095520586279, 0.06499044794137201, 0.2797592633699878, -0.049740159252731994],
]
CE_1D = 0.20902076654506024  # F.cross_entropy(torch.tensor([0.3, -1.0, 2.0]), torch.tensor(2))
CE32_MEAN = 1.2804896831512451  # F.cross_entropy(X.float(), T): a float32 tensor


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# ---- values against PyTorch ---------------------------------------------------------------------


@pytest.mark.parametrize("r", REDUCTIONS)
def test_values_against_pytorch(r):
    with np.errstate(**NO_WARNINGS):
        close(losses.mse(PRED, TGT, r), MSE[r])
        close(losses.binary_cross_entropy(P_CLAMP, Y_CLAMP, r), BCE[r])
        close(losses.bce_with_logits(LOGITS, YB, r), BCEL[r])
        close(losses.bce_with_logits(LOGITS, YB, r, pos_weight=POS_WEIGHT), BCEL_PW[r])
        close(losses.cross_entropy(X, T, r), CE[r])
        close(losses.cross_entropy(X, T_IGN, r, weight=W, label_smoothing=0.1), CE_WLS_IGN[r])
        close(losses.cross_entropy(X, PROBS, r, weight=W, label_smoothing=0.2), CE_PROB[r])


def test_cross_entropy_special_cases_against_pytorch():
    close(losses.cross_entropy(X, np.array([3, 1, 1, 1, 0]), weight=W, ignore_index=1), CE_W_IGNORE_1)
    close(losses.cross_entropy(X, PROBS_UNNORMALISED), CE_PROB_UNNORMALISED)
    close(losses.cross_entropy_grad(X, PROBS_UNNORMALISED), CE_PROB_UNNORMALISED_GRAD)
    one = losses.cross_entropy(np.array([0.3, -1.0, 2.0]), 2)
    assert np.ndim(one) == 0
    close(one, CE_1D)
    # toolnotes, torch 2.13.0: CrossEntropyLoss on [[1000, 0, -1000]] gives 0, 1000, 2000 for targets 0, 1, 2
    with np.errstate(**NO_WARNINGS):
        big = np.array([[1000.0, 0.0, -1000.0]] * 3)
        np.testing.assert_array_equal(losses.cross_entropy(big, np.array([0, 1, 2]), "none"), [0.0, 1000.0, 2000.0])
        np.testing.assert_array_equal(
            losses.cross_entropy_grad(big, np.array([0, 1, 2]), "none"), [[0, 0, 0], [1, -1, 0], [1, 0, -1]]
        )
        # torch 2.13.0: F.binary_cross_entropy_with_logits([1000, -1000, 1000, -1000], [1, 1, 0, 0], 'none')
        lg = np.array([1000.0, -1000.0, 1000.0, -1000.0])
        np.testing.assert_array_equal(losses.bce_with_logits(lg, np.array([1.0, 1, 0, 0]), "none"), [0, 1000, 1000, 0])
        np.testing.assert_array_equal(losses.bce_with_logits_grad(lg, np.array([1.0, 1, 0, 0]), "none"), [0, -1, 1, 0])


def test_every_row_ignored_is_nan_for_mean_like_pytorch():
    t = np.array([-100, -100, -100, -100, -100])
    with np.errstate(**NO_WARNINGS):  # torch 2.13.0 gives nan for 'mean' and 0 for 'sum'
        assert np.isnan(losses.cross_entropy(X, t))
        assert losses.cross_entropy(X, t, "sum") == 0.0
        assert np.all(np.isnan(losses.cross_entropy_grad(X, t)))
        assert np.isnan(losses.mse(np.zeros(0), np.zeros(0)))  # torch: F.mse_loss of empty tensors is nan


def test_gradients_against_pytorch():
    close(losses.binary_cross_entropy_grad(P, Y), BCE_GRAD_MEAN)
    close(losses.bce_with_logits_grad(LOGITS, YB, pos_weight=POS_WEIGHT), BCEL_PW_GRAD_MEAN)
    close(losses.cross_entropy_grad(X, T_IGN, weight=W, label_smoothing=0.1), CE_WLS_IGN_GRAD_MEAN)
    close(losses.cross_entropy_grad(X, PROBS, weight=W, label_smoothing=0.2), CE_PROB_GRAD_MEAN)


def test_float32_is_kept_where_pytorch_keeps_it():
    x32, p32, y32 = X.astype(np.float32), P.astype(np.float32), Y.astype(np.float32)
    out = losses.cross_entropy(x32, T)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, CE32_MEAN, rtol=1e-6)
    for r in REDUCTIONS:
        assert losses.cross_entropy(x32, T, r, weight=W.astype(np.float32), label_smoothing=0.1).dtype == np.float32
        assert losses.cross_entropy_grad(x32, T, r).dtype == np.float32
        assert losses.mse(p32, y32, r).dtype == np.float32
        assert losses.mse_grad(p32, y32, r).dtype == np.float32
        assert losses.binary_cross_entropy(p32, y32, r).dtype == np.float32
        assert losses.binary_cross_entropy_grad(p32, y32, r).dtype == np.float32
        assert losses.bce_with_logits(p32, y32, r).dtype == np.float32
        assert losses.bce_with_logits_grad(p32, y32, r).dtype == np.float32
    assert losses.cross_entropy_grad(x32, PROBS.astype(np.float32)).dtype == np.float32


# ---- gradients against finite differences ------------------------------------------------------


def _sum(v):
    return float(np.sum(v))  # 'none' is checked as the gradient of the summed per-element losses


@pytest.mark.parametrize("r", REDUCTIONS)
def test_elementwise_loss_gradients_against_finite_differences(r, check_grad):
    check_grad(lambda v: _sum(losses.mse(v, TGT, r)), PRED, losses.mse_grad(PRED, TGT, r))
    check_grad(lambda v: _sum(losses.binary_cross_entropy(v, Y, r)), P, losses.binary_cross_entropy_grad(P, Y, r))
    check_grad(lambda v: _sum(losses.bce_with_logits(v, YB, r)), LOGITS, losses.bce_with_logits_grad(LOGITS, YB, r))
    check_grad(
        lambda v: _sum(losses.bce_with_logits(v, YB, r, pos_weight=POS_WEIGHT)),
        LOGITS,
        losses.bce_with_logits_grad(LOGITS, YB, r, pos_weight=POS_WEIGHT),
    )


CE_CASES = {
    "plain": (T, {}),
    "weight": (T, {"weight": W}),
    "smoothing": (T, {"label_smoothing": 0.15}),
    "weight+smoothing+ignore": (T_IGN, {"weight": W, "label_smoothing": 0.1}),
    "custom ignore_index": (np.array([3, 0, 1, 0, 2]), {"weight": W, "ignore_index": 0}),
    "probabilities": (PROBS, {}),
    "unnormalised probabilities": (PROBS_UNNORMALISED, {"label_smoothing": 0.1}),
    "probabilities+weight+smoothing": (PROBS, {"weight": W, "label_smoothing": 0.3}),
}


@pytest.mark.parametrize("r", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=str)
def test_cross_entropy_grad_against_finite_differences(case, r, check_grad):
    target, kw = CE_CASES[case]
    analytic = losses.cross_entropy_grad(X, target, r, **kw)
    check_grad(lambda v: _sum(losses.cross_entropy(v, target, r, **kw)), X, analytic)


def test_cross_entropy_with_grad_is_both_at_once():
    loss, grad = losses.cross_entropy_with_grad(X, T)
    close(loss, CE["mean"])
    close(grad, losses.cross_entropy_grad(X, T))


# ---- bad input ----------------------------------------------------------------------------------


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"^reduction must be 'mean', 'sum' or 'none', got 'avg'$"):
        losses.mse(PRED, TGT, "avg")
    with pytest.raises(ValueError, match=r"^reduction must be"):
        losses.cross_entropy_grad(X, T, reduction="batchmean")
    with pytest.raises(ValueError, match=r"^pred and target must have the same shape, got \(2, 3\) and \(3,\)$"):
        losses.mse(PRED, TGT[0])
    with pytest.raises(ValueError, match=r"^logits and y must have the same shape"):
        losses.bce_with_logits(LOGITS, YB.T)
    with pytest.raises(ValueError, match=r"^p must hold probabilities in \[0, 1\]"):
        losses.binary_cross_entropy(np.array([1.2]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"^pos_weight must broadcast to y's shape \(4, 3\).*got \(4,\)$"):
        losses.bce_with_logits_grad(LOGITS, YB, pos_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"^target holds class index 4, out of range for 4 classes$"):
        losses.cross_entropy(X, np.array([0, 1, 4, 2, 3]))
    with pytest.raises(ValueError, match=r"^target holds class index -1, out of range for 4 classes$"):
        losses.cross_entropy_grad(X, np.array([0, 1, -1, 2, 3]))
    with pytest.raises(ValueError, match=r"^target must hold 5 class indices to match logits \(5, 4\), got \(4,\)$"):
        losses.cross_entropy(X, T[:4])
    with pytest.raises(ValueError, match=r"^probability targets must have the logits' shape \(5, 4\), got \(5, 3\)$"):
        losses.cross_entropy(X, PROBS[:, :3])
    with pytest.raises(TypeError, match=r"^target must be integer class indices or float probabilities, got dtype"):
        losses.cross_entropy(X, T > 1)
    with pytest.raises(ValueError, match=r"^weight must have shape \(4,\), one per class, got \(3,\)$"):
        losses.cross_entropy(X, T, weight=W[:3])
    with pytest.raises(ValueError, match=r"^label_smoothing must be in \[0, 1\], got 1.5$"):
        losses.cross_entropy(X, T, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"^logits must have shape \(C,\) or \(N, C\), got \(2, 2, 2\)$"):
        losses.cross_entropy(np.zeros((2, 2, 2)), np.array([0, 1]))


# ---- properties ---------------------------------------------------------------------------------

batch = st.integers(1, 6).flatmap(
    lambda n: st.integers(2, 5).flatmap(
        lambda c: st.tuples(
            arrays(np.float64, (n, c), elements=st.floats(-30, 30)),
            arrays(np.int64, (n,), elements=st.integers(0, c - 1)),
            arrays(np.float64, (c,), elements=st.floats(0.1, 5)),
        )
    )
)


@fast
@given(batch, st.floats(0, 1))
def test_cross_entropy_reductions_agree_and_are_non_negative(data, ls):
    z, t, w = data
    none = losses.cross_entropy(z, t, "none", label_smoothing=ls)
    assert np.all(none >= 0)
    np.testing.assert_allclose(losses.cross_entropy(z, t, "sum", label_smoothing=ls), none.sum(), rtol=1e-12)
    np.testing.assert_allclose(losses.cross_entropy(z, t, "mean", label_smoothing=ls), none.mean(), rtol=1e-12)
    weighted = losses.cross_entropy(z, t, "none", weight=w, label_smoothing=ls)
    assert np.all(weighted >= 0)
    np.testing.assert_allclose(  # PyTorch's weighted mean: divided by the targets' summed weights, not N
        losses.cross_entropy(z, t, "mean", weight=w, label_smoothing=ls), weighted.sum() / w[t].sum(), rtol=1e-12
    )


pairs = st.integers(1, 12).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(-1000, 1000)),
        arrays(np.float64, n, elements=st.floats(0, 1)),
    )
)


@fast
@given(pairs)
def test_elementwise_losses_are_non_negative_and_reductions_agree(data):
    z, y = data
    p = np.clip(np.abs(z) / 1000, 0, 1)
    with np.errstate(**NO_WARNINGS):
        for f, a in ((losses.mse, z), (losses.binary_cross_entropy, p), (losses.bce_with_logits, z)):
            none = f(a, y, "none")
            assert np.all(none >= 0) and np.all(np.isfinite(none)), f.__name__
            np.testing.assert_allclose(f(a, y, "sum"), none.sum(), rtol=1e-12)
            np.testing.assert_allclose(f(a, y, "mean"), none.mean(), rtol=1e-12)
