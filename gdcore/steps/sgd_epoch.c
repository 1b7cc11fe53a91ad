/* The plain C reference (step `c-loop`): SGD (batch 1) for softmax regression over n rows in order, one thread.
   Built with -O3 -march=native (no fast-math) when first used, called through ctypes so the timing holds only this
   loop. The feed hands it the rows already in the epoch's shuffled order, as every other step sees them. The weights are stored
   input-major, Wt[i][j] = W[j][i], so the inner loops run over the K = 10 outputs with no reduction: that is what
   lets the compiler vectorize them without reordering floating-point sums. Zero inputs (about 81% of MNIST's
   pixels) are skipped: exact, since they add nothing to the products or the update. */
#include <math.h>

#define K 10

void sgd_epoch(const float *X, const long *labels, long n, long d, long k,
               float *Wt, float *b, float lr) {
    if (k != K) return;  /* the caller checks k == 10 (MNIST's classes) */
    float z[K];
    for (long t = 0; t < n; t++) {
        const long s = t;
        const float *x = X + s * d;
        for (int j = 0; j < K; j++) z[j] = b[j];
        for (long i = 0; i < d; i++) {
            const float xi = x[i];
            if (xi == 0.0f) continue;
            const float *w = Wt + i * K;
            for (int j = 0; j < K; j++) z[j] += w[j] * xi;
        }
        float m = z[0];
        for (int j = 1; j < K; j++) m = z[j] > m ? z[j] : m;
        float total = 0.0f;
        for (int j = 0; j < K; j++) { z[j] = expf(z[j] - m); total += z[j]; }
        for (int j = 0; j < K; j++) z[j] = lr * z[j] / total;
        z[labels[s]] -= lr;
        for (long i = 0; i < d; i++) {
            const float xi = x[i];
            if (xi == 0.0f) continue;
            float *w = Wt + i * K;
            for (int j = 0; j < K; j++) w[j] -= z[j] * xi;
        }
        for (int j = 0; j < K; j++) b[j] -= z[j];
    }
}
