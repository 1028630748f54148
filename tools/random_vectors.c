/*
 * Reference sequences for tests/random_test.ts, from the PUBLISHED C forms of the generators
 * (not from lib/random.ts):
 * - mulberry32: Tommy Ettinger's C original (2017), the 32-bit state advanced by 0x6D2B79F5;
 * - sfc32: Chris Doty-Humphrey's Small Fast Counting RNG (PractRand), 32-bit variant with the
 *   rotation 21 and shifts 9 / 3;
 * - Box-Muller: z0 = sqrt(-2 ln u) cos(2 pi v), z1 = sqrt(-2 ln u) sin(2 pi v).
 * The seeding (createRng: seed XOR 0x9e3779b9; Rng: the seed hashed by splitmix32 into a, b, c,
 * counter 1, 12 discarded outputs) is the project's documented convention, written out here.
 *
 *   gcc -O1 -o /tmp/random_vectors tools/random_vectors.c -lm && /tmp/random_vectors \
 *     > tests/fixtures/random/vectors.json
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static uint32_t mulberry32(uint32_t *state) {
  uint32_t z = (*state += 0x6D2B79F5UL);
  z = (z ^ (z >> 15)) * (z | 1UL);
  z ^= z + (z ^ (z >> 7)) * (z | 61UL);
  return z ^ (z >> 14);
}

typedef struct { uint32_t a, b, c, counter; } sfc32_t;

static uint32_t sfc32(sfc32_t *s) {
  uint32_t tmp = s->a + s->b + s->counter++;
  s->a = s->b ^ (s->b >> 9);
  s->b = s->c + (s->c << 3);
  s->c = ((s->c << 21) | (s->c >> 11)) + tmp;
  return tmp;
}

static uint32_t splitmix32(uint32_t x) {
  uint32_t z = x + 0x9e3779b9u;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

static uint32_t mix_seed(uint32_t seed) { return splitmix32(0x2545f491u ^ seed); }

static double unit(uint32_t v) { return v / 4294967296.0; }

/* Box-Muller with the second value cached, as a little state machine over a uniform source. */
typedef struct { int has; double spare; } bm_t;
static double normal(bm_t *bm, double (*next)(void *), void *ctx) {
  if (bm->has) { bm->has = 0; return bm->spare; }
  double u = 0;
  while (u == 0) u = next(ctx);
  double v = next(ctx);
  double r = sqrt(-2 * log(u));
  bm->spare = r * sin(2 * M_PI * v);
  bm->has = 1;
  return r * cos(2 * M_PI * v);
}

static double next_m(void *s) { return unit(mulberry32((uint32_t *)s)); }
static double next_s(void *s) { return unit(sfc32((sfc32_t *)s)); }

int main(void) {
  uint32_t m = 12345;
  printf("{\n  \"source\": \"tools/random_vectors.c\",\n");
  double a = next_m(&m), b = next_m(&m), c = next_m(&m);
  printf("  \"mulberry32_12345\": [%.17g, %.17g, %.17g],\n", a, b, c);

  uint32_t t = 42u ^ 0x9e3779b9u;
  bm_t bm = {0, 0};
  double t0 = next_m(&t);
  double n1 = normal(&bm, next_m, &t), n2 = normal(&bm, next_m, &t), n3 = normal(&bm, next_m, &t);
  printf("  \"createRng_42\": [%.17g, %.17g, %.17g, %.17g],\n", t0, n1, n2, n3);

  sfc32_t s;
  s.a = splitmix32(mix_seed(7));
  s.b = splitmix32(s.a);
  s.c = splitmix32(s.b);
  s.counter = 1;
  for (int i = 0; i < 12; i++) sfc32(&s);
  bm_t bs = {0, 0};
  double r0 = next_s(&s);
  double r1 = normal(&bs, next_s, &s), r2 = normal(&bs, next_s, &s);
  double r3 = floor(next_s(&s) * 10);
  printf("  \"Rng_7\": [%.17g, %.17g, %.17g, %.17g]\n}\n", r0, r1, r2, r3);
  return 0;
}
