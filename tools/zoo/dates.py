"""Sequence-to-sequence models on a task with a known alignment: free-form dates -> ISO dates.

    "Tuesday, the 3rd of March 1998" -> "1998-03-03"

Three models, all trained on the same pairs for the same number of steps:
  dates-gru            bidirectional GRU encoder, GRU decoder that only sees the final encoder state
                       (one context vector: the bottleneck)
  dates-gru-attention  the same plus additive (Bahdanau) attention over the encoder outputs
  dates-transformer    small encoder-decoder Transformer with explicit Softmax attention
Each is exported as two graphs, like Hugging Face seq2seq exports: encoder.onnx and decoder.onnx
(one decoder step); the greedy loop runs in TypeScript.
"""
import datetime
import json
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from charlm import sinusoidal
from common import (CACHE, MODELS, Log, count_params, export, model_dir, setup, write_json,
                    write_reference)

# ---------------------------------------------------------------- data
PAD, UNK, BOS, EOS = '\u0000', '\ufffd', '\u0002', '\u0003'
SRC_VOCAB = [PAD, UNK] + list(" ',-./0123456789") + [chr(c) for c in range(ord('A'), ord('Z') + 1)] + \
    [chr(c) for c in range(ord('a'), ord('z') + 1)]
TGT_VOCAB = [PAD, BOS, EOS] + list('-0123456789')
SRC_STOI = {c: i for i, c in enumerate(SRC_VOCAB)}
TGT_STOI = {c: i for i, c in enumerate(TGT_VOCAB)}
MAX_SRC = 80
TGT_LEN = 11  # 10 characters + EOS

MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
          'November', 'December']
WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
        'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen']
TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety']
ORD_ONES = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth',
            'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth',
            'eighteenth', 'nineteenth']


def words(n: int) -> str:
    if n < 20:
        return ONES[n]
    return TENS[n // 10] + ('' if n % 10 == 0 else '-' + ONES[n % 10])


def ordinal_words(n: int) -> str:
    if n < 20:
        return ORD_ONES[n]
    if n % 10 == 0:
        return TENS[n // 10][:-1] + 'ieth'
    return TENS[n // 10] + '-' + ORD_ONES[n % 10]


def ordinal(n: int) -> str:
    suffix = 'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')
    return f'{n}{suffix}'


def year_words(y: int, rng: random.Random) -> str:
    if 2000 <= y < 2010 or (y >= 2010 and rng.random() < 0.5):
        rest = y - 2000
        return 'two thousand' + ('' if rest == 0 else rng.choice([' ', ' and ']) + words(rest))
    hi, lo = divmod(y, 100)
    return words(hi) + ' ' + ('hundred' if lo == 0 else ('oh ' + words(lo) if lo < 10 else words(lo)))


def render(d: datetime.date, rng: random.Random) -> str:
    """One free-form rendering of `d`. Slashes are always month/day/year, dots day.month.year."""
    m, day, y = d.month, d.day, d.year
    month = MONTHS[m - 1] if rng.random() < 0.6 else MONTHS[m - 1][:3]
    wd = WEEKDAYS[d.weekday()] if rng.random() < 0.6 else WEEKDAYS[d.weekday()][:3]
    yr = str(y) if rng.random() < 0.8 else rng.choice(["'", '']) + f'{y % 100:02d}'
    day_s = rng.choice([str(day), ordinal(day)])
    fmt = rng.randrange(12)
    if fmt == 0:
        s = f'{y}-{m:02d}-{day:02d}'
    elif fmt == 1:
        z = rng.random() < 0.5
        s = f'{m:02d}/{day:02d}/{y % 100:02d}' if z else f'{m}/{day}/{y}'
    elif fmt == 2:
        s = f'{day}.{m}.{y}' if rng.random() < 0.5 else f'{day:02d}.{m:02d}.{y}'
    elif fmt == 3:
        s = f'{month} {day_s}, {yr}' if rng.random() < 0.7 else f'{month} {day_s} {yr}'
    elif fmt == 4:
        s = f'{day_s} {month} {yr}'
    elif fmt == 5:
        s = rng.choice(['', 'the ']) + f'{ordinal(day)} of {month}' + rng.choice([' ', ', ']) + yr
    elif fmt == 6:
        s = f'{wd} {day} {month} {yr}' if rng.random() < 0.5 else f'{wd}, {month} {day_s}, {yr}'
    elif fmt == 7:
        s = f'{wd[:3]}, {day} {month[:3]} {y}'
    elif fmt == 8:
        s = f'the {ordinal_words(day)} of {month}, {year_words(y, rng)}'
    elif fmt == 9:
        s = f'{wd}, the {ordinal_words(day)} of {month} in the year {year_words(y, rng)}'
    elif fmt == 10:
        s = f'{month} the {rng.choice([ordinal(day), ordinal_words(day)])}, {yr}'
    else:
        s = f'on {wd} {ordinal_words(day)} {month} {year_words(y, rng)}'
    r = rng.random()
    if r < 0.15:
        s = s.lower()
    elif r < 0.2:
        s = s.capitalize() if s[0].isalpha() else s
    return s


def iso(d: datetime.date) -> str:
    return d.isoformat()


def make_pairs(n: int, seed: int, exclude=frozenset()) -> list:
    rng = random.Random(seed)
    start, days = datetime.date(1930, 1, 1), (datetime.date(2029, 12, 31) - datetime.date(1930, 1, 1)).days
    out, seen = [], set(exclude)
    while len(out) < n:
        d = start + datetime.timedelta(days=rng.randrange(days + 1))
        s = render(d, rng)
        if s in seen or len(s) > MAX_SRC:
            continue
        seen.add(s)
        out.append((s, iso(d)))
    return out


def enc_src(s: str) -> list:
    return [SRC_STOI.get(c, 1) for c in s]


def enc_tgt(s: str) -> list:
    return [TGT_STOI[c] for c in s] + [TGT_STOI[EOS]]


def batchify(pairs):
    lengths = torch.tensor([len(s) for s, _ in pairs])
    src = torch.zeros(len(pairs), int(lengths.max()), dtype=torch.int64)
    for i, (s, _) in enumerate(pairs):
        src[i, :len(s)] = torch.tensor(enc_src(s))
    tgt = torch.tensor([enc_tgt(t) for _, t in pairs])
    return src, lengths, tgt


# ---------------------------------------------------------------- GRU models
EMB, ENC_H, DEC_H, ATT = 32, 64, 128, 64


class GruEncoder(nn.Module):
    """Bidirectional GRU; `state` (tanh of a projection of both final states) initialises the decoder."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(SRC_VOCAB), EMB)
        self.rnn = nn.GRU(EMB, ENC_H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * ENC_H, DEC_H)

    def forward(self, ids, lengths=None):
        x = self.embed(ids)
        if lengths is None:
            out, h = self.rnn(x)
        else:  # training: packed, so padding never enters the recurrence (see notes/model-zoo.md)
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, h = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        state = torch.tanh(self.bridge(torch.cat([h[0], h[1]], dim=-1))).unsqueeze(0)
        return out, state


class GruDecoder(nn.Module):
    """One decoder step. With attention: additive (Bahdanau) scores v·tanh(W s + U h_j), explicit Softmax."""

    def __init__(self, attention: bool):
        super().__init__()
        self.attention = attention
        self.embed = nn.Embedding(len(TGT_VOCAB), 16)
        ctx = 2 * ENC_H if attention else 0
        self.rnn = nn.GRU(16 + ctx, DEC_H, batch_first=True)
        if attention:
            self.w_query = nn.Linear(DEC_H, ATT, bias=False)
            self.w_keys = nn.Linear(2 * ENC_H, ATT)
            self.v = nn.Linear(ATT, 1, bias=False)
        self.out = nn.Linear(DEC_H + ctx, len(TGT_VOCAB))

    def forward(self, prev, state, enc_out=None, mask=None):
        x = self.embed(prev)  # [B,1,16]
        if not self.attention:
            y, new_state = self.rnn(x, state)
            return self.out(y[:, 0]), new_state, None
        scores = self.v(torch.tanh(self.w_keys(enc_out) + self.w_query(state[0]).unsqueeze(1)))[..., 0]  # [B,S]
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), enc_out)  # [B,1,2H]
        y, new_state = self.rnn(torch.cat([x, context], dim=-1), state)
        return self.out(torch.cat([y[:, 0], context[:, 0]], dim=-1)), new_state, weights


class GruSeq2Seq(nn.Module):
    def __init__(self, attention: bool):
        super().__init__()
        self.encoder, self.decoder = GruEncoder(), GruDecoder(attention)

    def loss(self, src, lengths, tgt):
        enc_out, state = self.encoder(src, lengths)
        if not self.decoder.attention:
            # Teacher forcing in one GRU call: the same numbers as the step loop below, several times faster.
            inp = torch.cat([torch.full((src.shape[0], 1), TGT_STOI[BOS]), tgt[:, :-1]], 1)
            y, _ = self.decoder.rnn(self.decoder.embed(inp), state)
            return F.cross_entropy(self.decoder.out(y).reshape(-1, len(TGT_VOCAB)), tgt.reshape(-1))
        mask = torch.arange(src.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        prev = torch.full((src.shape[0], 1), TGT_STOI[BOS], dtype=torch.int64)
        total = 0.0
        for t in range(TGT_LEN):  # teacher forcing
            logits, state, _ = self.decoder(prev, state, enc_out, mask)
            total = total + F.cross_entropy(logits, tgt[:, t])
            prev = tgt[:, t:t + 1]
        return total / TGT_LEN

    @torch.no_grad()
    def greedy(self, src, lengths):
        enc_out, state = self.encoder(src, lengths)
        mask = torch.arange(src.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
        prev = torch.full((src.shape[0], 1), TGT_STOI[BOS], dtype=torch.int64)
        out = []
        for _ in range(TGT_LEN):
            logits, state, _ = self.decoder(prev, state, enc_out, mask)
            prev = logits.argmax(-1, keepdim=True)
            out.append(prev)
        return torch.cat(out, 1)


# ---------------------------------------------------------------- Transformer
D, HEADS, FF, LAYERS = 64, 4, 256, 2


class Attention(nn.Module):
    """Written out (MatMul, Where, Softmax, MatMul) so every head's weights are a tensor in the graph."""

    def __init__(self):
        super().__init__()
        self.dh = D // HEADS
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))

    def split(self, x):
        return x.view(x.shape[0], x.shape[1], HEADS, self.dh).transpose(1, 2)

    def forward(self, x, mem, mask=None):
        b, t, _ = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(mem)), self.split(self.v(mem))
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.dh)
        if mask is not None:  # True = may not attend
            scores = scores.masked_fill(mask, -1e9)
        weights = torch.softmax(scores, dim=-1)
        return self.o(torch.matmul(weights, v).transpose(1, 2).reshape(b, t, D))


def feed_forward():
    return nn.Sequential(nn.Linear(D, FF), nn.GELU(), nn.Linear(FF, D))


class EncLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2, self.att, self.ff = nn.LayerNorm(D), nn.LayerNorm(D), Attention(), feed_forward()

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.att(h, h, mask)
        return x + self.ff(self.ln2(x))


class DecLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(D), nn.LayerNorm(D), nn.LayerNorm(D)
        self.self_att, self.cross_att, self.ff = Attention(), Attention(), feed_forward()

    def forward(self, x, mem, causal, mem_mask):
        h = self.ln1(x)
        x = x + self.self_att(h, h, causal)
        x = x + self.cross_att(self.ln2(x), mem, mem_mask)
        return x + self.ff(self.ln3(x))


class TransformerEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(SRC_VOCAB), D)
        self.layers = nn.ModuleList(EncLayer() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(D)

    def forward(self, ids, pad_mask=None):  # pad_mask [B,1,1,S], True = padding (training only)
        x = self.embed(ids) + sinusoidal(ids.shape[1], D)
        for layer in self.layers:
            x = layer(x, pad_mask)
        return self.ln(x)


class TransformerDecoder(nn.Module):
    """Takes the whole target prefix [B,T] and the encoder output; returns logits [B,T,V]."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(TGT_VOCAB), D)
        self.layers = nn.ModuleList(DecLayer() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(D)
        self.out = nn.Linear(D, len(TGT_VOCAB))

    def forward(self, tokens, mem, mem_mask=None):
        t = tokens.shape[1]
        x = self.embed(tokens) + sinusoidal(t, D)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        for layer in self.layers:
            x = layer(x, mem, causal, mem_mask)
        return self.out(self.ln(x))


class TransformerSeq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = TransformerEncoder(), TransformerDecoder()

    def loss(self, src, lengths, tgt):
        pad = (torch.arange(src.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1))[:, None, None, :]
        mem = self.encoder(src, pad)
        inp = torch.cat([torch.full((src.shape[0], 1), TGT_STOI[BOS]), tgt[:, :-1]], 1)
        logits = self.decoder(inp, mem, pad)
        return F.cross_entropy(logits.reshape(-1, len(TGT_VOCAB)), tgt.reshape(-1))

    @torch.no_grad()
    def greedy(self, src, lengths):
        pad = (torch.arange(src.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1))[:, None, None, :]
        mem = self.encoder(src, pad)
        seq = torch.full((src.shape[0], 1), TGT_STOI[BOS])
        for _ in range(TGT_LEN):
            nxt = self.decoder(seq, mem, pad)[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
        return seq[:, 1:]


SPECS = {
    'dates-gru': dict(make=lambda: GruSeq2Seq(False), arch='seq2seq', lr=3e-3, warmup=50, steps=1200,
                      about='GRU encoder-decoder WITHOUT attention: a bidirectional GRU encoder (64 per direction) '
                            'whose final states, projected to 128, are the decoder\'s only view of the input (the '
                            'bottleneck). GRU decoder, hidden 128.'),
    'dates-gru-attention': dict(make=lambda: GruSeq2Seq(True), arch='seq2seq-attention', lr=3e-3, warmup=50,
                                about='The same GRU encoder-decoder WITH additive (Bahdanau) attention over the '
                                      'encoder outputs; the decoder step returns the attention weights.'),
    'dates-transformer': dict(make=lambda: TransformerSeq2Seq(), arch='transformer-encoder-decoder', lr=2e-3,
                              warmup=50, steps=500,
                              about='Encoder-decoder Transformer: 2 encoder and 2 decoder pre-LayerNorm layers, '
                                    'd_model 64, 4 heads, feed-forward 256, sinusoidal positions; self- and '
                                    'cross-attention written out with an explicit Softmax.'),
}
STEPS, BATCH, N_TRAIN, N_TEST, SEED = 300, 64, 40000, 3000, 1
BUCKETS = [(1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 60), (61, MAX_SRC)]


def datasets():
    train_pairs = make_pairs(N_TRAIN, seed=SEED)
    test_pairs = make_pairs(N_TEST, seed=SEED + 1000, exclude=frozenset(s for s, _ in train_pairs))
    return train_pairs, test_pairs


def predict(model, pairs) -> list:
    model.eval()
    preds = []
    for i in range(0, len(pairs), 256):
        src, lengths, _ = batchify(pairs[i:i + 256])
        for row in model.greedy(src, lengths).tolist():
            text = ''
            for t in row:
                if TGT_VOCAB[t] == EOS:
                    break
                text += TGT_VOCAB[t]
            preds.append(text)
    model.train()
    return preds


def bucket_accuracy(pairs, preds) -> list:
    rows = []
    for lo, hi in BUCKETS:
        idx = [i for i, (s, _) in enumerate(pairs) if lo <= len(s) <= hi]
        if idx:
            rows.append({'lengths': f'{lo}-{hi}', 'n': len(idx),
                         'exactMatch': sum(preds[i] == pairs[i][1] for i in idx) / len(idx)})
    return rows


def train(name: str, steps=None, seed: int = SEED) -> None:
    spec = SPECS[name]
    setup(seed)
    log = Log(name)
    train_pairs, test_pairs = datasets()
    model = spec['make']()
    steps = steps or spec.get('steps', STEPS)
    log(f'{name}: {count_params(model)} params, {len(train_pairs)} train pairs, {len(test_pairs)} test, {steps} steps')
    opt = torch.optim.AdamW(model.parameters(), lr=spec['lr'], weight_decay=0.01)

    def lr_at(step):
        if step < spec['warmup']:
            return (step + 1) / spec['warmup']
        p = (step - spec['warmup']) / max(1, steps - spec['warmup'])
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    rng = random.Random(seed)
    t0 = time.time()
    for step in range(steps):
        loss = model.loss(*batchify(rng.sample(train_pairs, BATCH)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f'step {step} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.5f}')
        if step % 100 == 99:
            preds = predict(model, test_pairs[:500])
            log(f'step {step} exact match {sum(p == t for p, (_, t) in zip(preds, test_pairs)) / 500:.3f} (500 test)')
    seconds = time.time() - t0
    preds = predict(model, test_pairs)
    acc = sum(p == t for p, (_, t) in zip(preds, test_pairs)) / len(test_pairs)
    buckets = bucket_accuracy(test_pairs, preds)
    log(f'done: exact match {acc:.4f}, {seconds:.0f}s; {buckets}')
    torch.save(model.state_dict(), CACHE / f'{name}.pt')
    write_json(CACHE / f'{name}.train.json', {'steps': steps, 'seconds': round(seconds), 'exact_match': acc,
                                               'buckets': buckets, 'seed': seed, 'params': count_params(model)})


class _DecoderStep(nn.Module):
    """Export wrapper: one GRU decoder step with the names the manifest declares."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, prev, state, enc_out=None):
        logits, new_state, weights = self.dec(prev, state, enc_out)
        return (logits, new_state) if weights is None else (logits, new_state, weights)


def export_model(name: str) -> None:
    spec = SPECS[name]
    model = spec['make']()
    model.load_state_dict(torch.load(CACHE / f'{name}.pt'))
    model.eval()
    info = json.loads((CACHE / f'{name}.train.json').read_text())
    out = model_dir(name)
    _, test_pairs = datasets()
    sample = torch.tensor([enc_src('Tuesday, the 3rd of March 1998')])
    is_rnn = name != 'dates-transformer'
    enc_refs, dec_refs = [], []
    if is_rnn:
        export(model.encoder, (sample,), out / 'encoder.onnx', ['ids'], ['encoder_outputs', 'state'],
               {'ids': {0: 'batch', 1: 'src_len'}, 'encoder_outputs': {0: 'batch', 1: 'src_len'},
                'state': {1: 'batch'}})
        enc_out, state = model.encoder(sample)
        prev = torch.tensor([[TGT_STOI[BOS]]])
        att = model.decoder.attention
        step = _DecoderStep(model.decoder)
        names_in = ['prev_token', 'state'] + (['encoder_outputs'] if att else [])
        names_out = ['logits', 'new_state'] + (['attention'] if att else [])
        axes = {'prev_token': {0: 'batch'}, 'state': {1: 'batch'}, 'logits': {0: 'batch'}, 'new_state': {1: 'batch'}}
        if att:
            axes.update({'encoder_outputs': {0: 'batch', 1: 'src_len'}, 'attention': {0: 'batch', 1: 'src_len'}})
        export(step, (prev, state, enc_out) if att else (prev, state), out / 'decoder.onnx', names_in, names_out, axes)
        with torch.no_grad():
            for s in ('3/3/98', 'Tuesday, the twenty-third of March in the year nineteen ninety-eight'):
                ids = torch.tensor([enc_src(s)])
                eo, st = model.encoder(ids)
                enc_refs.append({'inputs': {'ids': ids}, 'outputs': {'encoder_outputs': eo, 'state': st}})
                for tok in (TGT_STOI[BOS], TGT_STOI['1']):
                    p = torch.tensor([[tok]])
                    res = step(p, st, eo) if att else step(p, st)
                    ins = {'prev_token': p, 'state': st, **({'encoder_outputs': eo} if att else {})}
                    dec_refs.append({'inputs': ins, 'outputs': dict(zip(names_out, res))})
        io = {'encoder': {'ids': 'ids', 'outputs': 'encoder_outputs', 'state': 'state'},
              'decoder': {'tokens': 'prev_token', 'tokensMode': 'previous', 'stateIn': 'state',
                          'stateOut': 'new_state', 'logits': 'logits',
                          **({'encoderOut': 'encoder_outputs', 'attention': 'attention'} if att else {})}}
    else:
        export(model.encoder, (sample,), out / 'encoder.onnx', ['ids'], ['encoder_outputs'],
               {'ids': {0: 'batch', 1: 'src_len'}, 'encoder_outputs': {0: 'batch', 1: 'src_len'}})
        mem = model.encoder(sample)
        prefix = torch.tensor([[TGT_STOI[BOS], TGT_STOI['1'], TGT_STOI['9']]])
        export(model.decoder, (prefix, mem), out / 'decoder.onnx', ['tokens', 'encoder_outputs'], ['logits'],
               {'tokens': {0: 'batch', 1: 'tgt_len'}, 'encoder_outputs': {0: 'batch', 1: 'src_len'},
                'logits': {0: 'batch', 1: 'tgt_len'}})
        with torch.no_grad():
            for s in ('3/3/98', 'Tuesday, the twenty-third of March in the year nineteen ninety-eight'):
                ids = torch.tensor([enc_src(s)])
                mem = model.encoder(ids)
                enc_refs.append({'inputs': {'ids': ids}, 'outputs': {'encoder_outputs': mem}})
                for p in (prefix[:, :1], prefix):
                    dec_refs.append({'inputs': {'tokens': p, 'encoder_outputs': mem},
                                     'outputs': {'logits': model.decoder(p, mem)}})
        io = {'encoder': {'ids': 'ids', 'outputs': 'encoder_outputs'},
              'decoder': {'tokens': 'tokens', 'tokensMode': 'prefix', 'encoderOut': 'encoder_outputs',
                          'logits': 'logits'}}
    write_reference(name, 'encoder.onnx', enc_refs)
    write_reference(name, 'decoder.onnx', dec_refs)
    write_json(out / 'source_vocab.json', SRC_VOCAB)
    write_json(out / 'target_vocab.json', TGT_VOCAB)
    io.update({'targetTokenizer': {'type': 'char', 'vocab': 'target_vocab.json', 'bos': TGT_STOI[BOS],
                                   'eos': TGT_STOI[EOS], 'pad': TGT_STOI[PAD]},
               'bos': TGT_STOI[BOS], 'eos': TGT_STOI[EOS], 'maxTargetLength': TGT_LEN})
    write_json(out / 'manifest.json', {
        'name': name,
        'description': f"{spec['about']} Translates free-form dates ('Tuesday, the 3rd of March 1998', '3/3/98', "
                       "'the twenty-third of March, nineteen ninety-eight') to ISO 'YYYY-MM-DD'. Slashes mean "
                       'month/day/year, dots day.month.year; years 1930-2029.',
        'architecture': spec['arch'],
        'task': 'seq2seq',
        'files': {'encoder': 'encoder.onnx', 'decoder': 'decoder.onnx'},
        'tokenizer': {'type': 'char', 'vocab': 'source_vocab.json', 'unk': SRC_STOI[UNK], 'pad': SRC_STOI[PAD]},
        'maxLength': MAX_SRC,
        'io': io,
        'training': {'data': f'{N_TRAIN} generated date pairs (tools/zoo/dates.py, seed {SEED}), batch {BATCH}, '
                             'AdamW' + (', packed sequences' if is_rnn else ', padding masked'),
                     'steps': info['steps'], 'seconds': info['seconds'], 'params': info['params'],
                     'seed': info['seed']},
        'metric': {'name': 'exact-match', 'value': round(info['exact_match'], 4),
                   'split': f'{N_TEST} held-out generated dates never seen in training, greedy decoding'},
    })
    # Which field is wrong, by coarse source length: the bottleneck model loses the day first.
    all_preds = predict(model, test_pairs)
    field_errors = []
    for lo, hi in [(1, 20), (21, 40), (41, 60), (61, MAX_SRC)]:
        idx = [i for i, (s, _) in enumerate(test_pairs) if lo <= len(s) <= hi]
        field_errors.append({'lengths': f'{lo}-{hi}', 'n': len(idx), **{
            f: round(sum(all_preds[i][a:b] != test_pairs[i][1][a:b] for i in idx) / len(idx), 4)
            for f, a, b in (('year', 0, 4), ('month', 5, 7), ('day', 8, 10))}})
    # A small held-out file so TypeScript tests can check that their greedy loop reproduces PyTorch.
    rng = random.Random(7)
    picked = rng.sample(test_pairs, 50)
    preds = predict(model, picked)
    write_json(out / 'heldout.json', {
        'note': 'Held-out pairs (never trained on) and the PyTorch greedy prediction for each. exactMatch is over '
                'these pairs; heldOutExactMatch and accuracyByLength (source length in characters) are over all '
                f'{N_TEST} held-out pairs.',
        'exactMatch': sum(p == t for p, (_, t) in zip(preds, picked)) / len(picked),
        'heldOutExactMatch': round(info['exact_match'], 4),
        'accuracyByLength': info['buckets'],
        'fieldErrorsByLength': field_errors,
        'pairs': [{'source': s, 'target': t, 'predicted': p} for (s, t), p in zip(picked, preds)]})
