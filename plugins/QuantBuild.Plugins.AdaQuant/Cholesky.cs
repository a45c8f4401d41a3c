using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// In-place lower Cholesky factor L (A = L·Lᵀ) of a symmetric positive definite matrix in double, blocked (right-
/// looking, 64 columns a step) so the K³/6 multiply-adds run as register-tiled updates of the trailing matrix in
/// parallel row tiles; each entry's arithmetic is fixed, so the factor does not depend on threads. Only the lower
/// triangle is read and written.
/// </summary>
internal static class Cholesky
{
    private const int Block = 64, RowTile = 32;

    /// <summary>Factors <paramref name="a"/> ([n, n] row-major) in place; false when a pivot is not positive (or NaN): not positive definite.</summary>
    public static bool TryFactor(double[] a, int n)
    {
        for (int k0 = 0; k0 < n; k0 += Block)
        {
            int k1 = Math.Min(k0 + Block, n);
            if (!FactorDiagonal(a, n, k0, k1))
            {
                return false;
            }

            // Panel: rows below the block solve L[i, k0:k1]·L[k0:k1, k0:k1]ᵀ = A[i, k0:k1].
            int below = n - k1;
            Parallel.For(0, (below + RowTile - 1) / RowTile, t =>
            {
                int end = Math.Min(k1 + ((t + 1) * RowTile), n);
                for (int i = k1 + (t * RowTile); i < end; i++)
                {
                    long ri = (long)i * n;
                    for (int j = k0; j < k1; j++)
                    {
                        long rj = (long)j * n;
                        double s = a[ri + j];
                        for (int p = k0; p < j; p++)
                        {
                            s -= a[ri + p] * a[rj + p];
                        }

                        a[ri + j] = s / a[rj + j];
                    }
                }
            });

            if (below > 0)
            {
                Trailing(a, n, k0, k1);
            }
        }

        return true;
    }

    private static bool FactorDiagonal(double[] a, int n, int k0, int k1)
    {
        for (int j = k0; j < k1; j++)
        {
            long rj = (long)j * n;
            double d = a[rj + j];
            for (int p = k0; p < j; p++)
            {
                d -= a[rj + p] * a[rj + p];
            }

            if (!(d > 0) || !double.IsFinite(d))
            {
                return false;
            }

            double l = Math.Sqrt(d);
            a[rj + j] = l;
            for (int i = j + 1; i < k1; i++)
            {
                long ri = (long)i * n;
                double s = a[ri + j];
                for (int p = k0; p < j; p++)
                {
                    s -= a[ri + p] * a[rj + p];
                }

                a[ri + j] = s / l;
            }
        }

        return true;
    }

    // A[i, j] −= Σ_{p in block} L[i, p]·L[j, p] for k1 ≤ j ≤ i: the block's columns packed transposed once, then
    // tiles of 4 rows × 8 columns of accumulators in registers.
    private static void Trailing(double[] a, int n, int k0, int k1)
    {
        int depth = k1 - k0, m = n - k1;
        var packed = new double[(long)depth * m];
        for (int j = 0; j < m; j++)
        {
            long rj = (long)(k1 + j) * n;
            for (int p = 0; p < depth; p++)
            {
                packed[((long)p * m) + j] = a[rj + k0 + p];
            }
        }

        Parallel.For(0, (m + RowTile - 1) / RowTile, t =>
        {
            int i0 = t * RowTile, i1 = Math.Min(i0 + RowTile, m);
            for (int i = i0; i < i1; i += 4)
            {
                int rows = Math.Min(4, i1 - i);
                // Columns up to the tile's last row (the few above the diagonal are computed and not read again).
                int cols = Math.Min(m, i + rows);
                Update(a, n, k0, k1 + i, rows, packed, m, cols, depth);
            }
        });
    }

    private static void Update(double[] a, int n, int k0, int row0, int rows, double[] packed, int m, int cols, int depth)
    {
        int w = Vector256<double>.Count;
        ref double ra = ref MemoryMarshal.GetArrayDataReference(a);
        ref double rp = ref MemoryMarshal.GetArrayDataReference(packed);
        int kOff = n - m;
        int j = 0;
        if (rows == 4)
        {
            for (; j + (2 * w) <= cols; j += 2 * w)
            {
                ref double c0 = ref Unsafe.Add(ref ra, ((nint)row0 * n) + kOff + j);
                ref double c1 = ref Unsafe.Add(ref c0, n);
                ref double c2 = ref Unsafe.Add(ref c0, 2 * (nint)n);
                ref double c3 = ref Unsafe.Add(ref c0, 3 * (nint)n);
                Vector256<double> s00 = Vector256.LoadUnsafe(ref c0), s01 = Vector256.LoadUnsafe(ref c0, (nuint)w);
                Vector256<double> s10 = Vector256.LoadUnsafe(ref c1), s11 = Vector256.LoadUnsafe(ref c1, (nuint)w);
                Vector256<double> s20 = Vector256.LoadUnsafe(ref c2), s21 = Vector256.LoadUnsafe(ref c2, (nuint)w);
                Vector256<double> s30 = Vector256.LoadUnsafe(ref c3), s31 = Vector256.LoadUnsafe(ref c3, (nuint)w);
                ref double l0 = ref Unsafe.Add(ref ra, ((nint)row0 * n) + k0);
                ref double bp = ref Unsafe.Add(ref rp, j);
                for (int p = 0; p < depth; p++)
                {
                    Vector256<double> b0 = Vector256.LoadUnsafe(ref bp), b1 = Vector256.LoadUnsafe(ref bp, (nuint)w);
                    Vector256<double> x = Vector256.Create(-Unsafe.Add(ref l0, p));
                    s00 = Vector256.FusedMultiplyAdd(x, b0, s00);
                    s01 = Vector256.FusedMultiplyAdd(x, b1, s01);
                    x = Vector256.Create(-Unsafe.Add(ref l0, n + p));
                    s10 = Vector256.FusedMultiplyAdd(x, b0, s10);
                    s11 = Vector256.FusedMultiplyAdd(x, b1, s11);
                    x = Vector256.Create(-Unsafe.Add(ref l0, (2 * (nint)n) + p));
                    s20 = Vector256.FusedMultiplyAdd(x, b0, s20);
                    s21 = Vector256.FusedMultiplyAdd(x, b1, s21);
                    x = Vector256.Create(-Unsafe.Add(ref l0, (3 * (nint)n) + p));
                    s30 = Vector256.FusedMultiplyAdd(x, b0, s30);
                    s31 = Vector256.FusedMultiplyAdd(x, b1, s31);
                    bp = ref Unsafe.Add(ref bp, m);
                }

                s00.StoreUnsafe(ref c0);
                s01.StoreUnsafe(ref c0, (nuint)w);
                s10.StoreUnsafe(ref c1);
                s11.StoreUnsafe(ref c1, (nuint)w);
                s20.StoreUnsafe(ref c2);
                s21.StoreUnsafe(ref c2, (nuint)w);
                s30.StoreUnsafe(ref c3);
                s31.StoreUnsafe(ref c3, (nuint)w);
            }
        }

        // Edges: the same fused chain per element, in the same order.
        for (int r = 0; r < rows; r++)
        {
            long ri = (long)(row0 + r) * n;
            for (int jj = rows == 4 ? j : 0; jj < cols; jj++)
            {
                double s = a[ri + kOff + jj];
                for (int p = 0; p < depth; p++)
                {
                    s = Math.FusedMultiplyAdd(-a[ri + k0 + p], packed[((long)p * m) + jj], s);
                }

                a[ri + kOff + jj] = s;
            }
        }
    }
}
