#!/usr/bin/env python3
# Derives the constants of src/runtime/crc32_x86.h and checks register-level models
# of the PCLMULQDQ (4 x 128-bit) and VPCLMULQDQ (4 x 512-bit) folds against zlib.crc32.
# Run: /usr/bin/python3 scripts/crc32_constants.py
import zlib, os
P = 0x104C11DB7
def pmod(a, m=P):
    dm = m.bit_length() - 1
    while a.bit_length() - 1 >= dm:
        a ^= m << (a.bit_length() - 1 - dm)
    return a
def pdiv(a, m):
    q = 0; dm = m.bit_length() - 1
    while a.bit_length() - 1 >= dm:
        s = a.bit_length() - 1 - dm; q |= 1 << s; a ^= m << s
    return q
def xpow_mod(n): return pmod(1 << n)
def rev(v, bits): return int(format(v, '0%db' % bits)[::-1], 2)
def r64(poly):            # R64 form: coefficient x^d at bit 63-d (d < 64)
    return rev(poly, 64)
def rev33(poly): return rev(poly, 33)   # coefficient x^d at bit 32-d
def clmul(a, b):
    r = 0
    for i in range(64):
        if (b >> i) & 1: r ^= a << i
    return r
M64 = (1 << 64) - 1
K = dict(
    k1=r64(xpow_mod(575)), k2=r64(xpow_mod(511)),   # fold 4 x 128 bits forward by 512
    k3=r64(xpow_mod(191)), k4=r64(xpow_mod(127)),   # fold 128 bits forward by 128
    k5=r64(xpow_mod(95)),                           # 128 -> 96 bits (times x^32)
    k6=r64(xpow_mod(63)),                           # 96 -> 64 bits
    mu=rev33(pdiv(1 << 64, P)), p=rev33(P))         # Barrett
def fold(x, kh, kl): return clmul(x & M64, kh) ^ clmul(x >> 64, kl)
def crc_model(data, crc=0):
    c = ~crc & 0xFFFFFFFF
    n = len(data); assert n >= 64
    blk = lambda o: int.from_bytes(data[o:o + 16], 'little')
    x = [blk(0) ^ c, blk(16), blk(32), blk(48)]; o = 64
    while n - o >= 64:
        x = [fold(x[i], K['k1'], K['k2']) ^ blk(o + 16 * i) for i in range(4)]; o += 64
    v = x[0]
    for i in range(1, 4): v = fold(v, K['k3'], K['k4']) ^ x[i]
    while n - o >= 16:
        v = fold(v, K['k3'], K['k4']) ^ blk(o); o += 16
    y = clmul(v & M64, K['k5']) ^ ((v >> 64) << 32)
    t = (clmul(y & M64, K['k6']) ^ y) >> 64
    q = clmul(t & 0xFFFFFFFF, K['mu']) & 0xFFFFFFFF
    r = ((clmul(q, K['p']) ^ t) >> 32) & 0xFFFFFFFF
    c = r
    for b in data[o:]:                      # tail, bit at a time
        c ^= b
        for _ in range(8): c = (c >> 1) ^ (0xEDB88320 & -(c & 1))
    return ~c & 0xFFFFFFFF
for n in list(range(64, 300)) + [1000, 4096, 65537]:
    d = os.urandom(n)
    assert crc_model(d) == zlib.crc32(d), n
    assert crc_model(d, 0x12345678) == zlib.crc32(d, 0x12345678), n
for k, v in K.items(): print('%-3s 0x%016x' % (k, v))
print('model agrees with zlib.crc32')
# VPCLMULQDQ: four 512-bit accumulators fold forward by 2048 bits; then one 512-bit
# register's four lanes fold by 384, 256 and 128 bits onto the last lane.
for n in (2048, 512, 384, 256, 128):
    print('fold by %4d: kH 0x%016x kL 0x%016x' % (n, r64(xpow_mod(n + 63)), r64(xpow_mod(n - 1))))
def crc_model_wide(data, crc=0):
    c = ~crc & 0xFFFFFFFF; n = len(data); assert n >= 256
    blk = lambda o: int.from_bytes(data[o:o + 16], 'little')
    fb = lambda x, nb: fold(x, r64(xpow_mod(nb + 63)), r64(xpow_mod(nb - 1)))
    z = [[blk(64 * j + 16 * l) for l in range(4)] for j in range(4)]; z[0][0] ^= c; o = 256
    while n - o >= 256:
        z = [[fb(z[j][l], 2048) ^ blk(o + 64 * j + 16 * l) for l in range(4)] for j in range(4)]; o += 256
    w = z[0]
    for j in range(1, 4): w = [fb(w[l], 512) ^ z[j][l] for l in range(4)]
    while n - o >= 64:
        w = [fb(w[l], 512) ^ blk(o + 16 * l) for l in range(4)]; o += 64
    v = fb(w[0], 384) ^ fb(w[1], 256) ^ fb(w[2], 128) ^ w[3]
    while n - o >= 16:
        v = fold(v, K['k3'], K['k4']) ^ blk(o); o += 16
    y = clmul(v & M64, K['k5']) ^ ((v >> 64) << 32)
    t = (clmul(y & M64, K['k6']) ^ y) >> 64
    q = clmul(t & 0xFFFFFFFF, K['mu']) & 0xFFFFFFFF
    c = ((clmul(q, K['p']) ^ t) >> 32) & 0xFFFFFFFF
    for b in data[o:]:
        c ^= b
        for _ in range(8): c = (c >> 1) ^ (0xEDB88320 & -(c & 1))
    return ~c & 0xFFFFFFFF
for n in list(range(256, 600, 7)) + [4096, 65537]:
    d = os.urandom(n)
    assert crc_model_wide(d, 0xdeadbeef) == zlib.crc32(d, 0xdeadbeef), n
print('wide model agrees with zlib.crc32')
