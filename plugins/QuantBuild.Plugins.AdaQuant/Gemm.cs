using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>
/// The one float matrix kernel the large-layer paths share (H = XᵀX, GPTQ's lazy updates, the tiled losses):
/// C[i, j] = (C or 0) ⊕ Σ_p A[i, p]·B[p, j] in register tiles of 4 rows × 16 columns. Every element is one chain of
/// multiply-adds in ascending p whatever the tile it falls in (the scalar edges repeat the vector lanes' arithmetic),
/// so a result never depends on how a caller splits rows or columns, or on threads.
/// </summary>
internal static class Gemm
{
    private const int Mr = 4;
    private static readonly int W = Vector256<float>.Count;

    /// <summary>How one step of a chain is rounded.</summary>
    public interface IStep
    {
        static abstract Vector256<float> Step(Vector256<float> acc, Vector256<float> a, Vector256<float> b);

        static abstract float Step(float acc, float a, float b);

        static abstract Vector512<float> Step(Vector512<float> acc, Vector512<float> a, Vector512<float> b);
    }

    /// <summary>acc + a·b rounded twice, exactly what <c>TensorPrimitives.MultiplyAdd</c> does (H keeps its old bits).</summary>
    public readonly struct Separate : IStep
    {
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> a, Vector256<float> b) => acc + (a * b);

        public static float Step(float acc, float a, float b) => acc + (a * b);

        public static Vector512<float> Step(Vector512<float> acc, Vector512<float> a, Vector512<float> b) => acc + (a * b);
    }

    /// <summary>acc + a·b rounded once (fused multiply-add, also in the scalar edges).</summary>
    public readonly struct Fused : IStep
    {
        public static Vector256<float> Step(Vector256<float> acc, Vector256<float> a, Vector256<float> b) => Vector256.FusedMultiplyAdd(a, b, acc);

        public static float Step(float acc, float a, float b) => MathF.FusedMultiplyAdd(a, b, acc);

        public static Vector512<float> Step(Vector512<float> acc, Vector512<float> a, Vector512<float> b) => Vector512.FusedMultiplyAdd(a, b, acc);
    }

    /// <summary>
    /// C[i·ldc + j] = (accumulate ? C[i·ldc + j] : 0) ⊕ Σ_{p &lt; depth} a[i·aRow + p·aCol] · b[p·ldb + j] for i &lt; m, j &lt; n.
    /// </summary>
    public static void Multiply<T>(ReadOnlySpan<float> a, int aRow, int aCol, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int depth, bool accumulate)
        where T : struct, IStep
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        // The last element each operand is read at, checked once so the loops below can index without bounds checks.
        if (depth > 0 && ((long)(m - 1) * aRow + (long)(depth - 1) * aCol >= a.Length || (long)(depth - 1) * ldb + n > b.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(depth), "operands are shorter than the shape asks");
        }

        if ((long)(m - 1) * ldc + n > c.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(c), "output is shorter than the shape asks");
        }

        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i + Mr <= m; i += Mr)
        {
            ref float ai = ref Unsafe.Add(ref ra, (nint)i * aRow);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                // Twice the columns per instruction where the CPU has AVX-512; the lanes' arithmetic is the same.
                for (; j + (4 * W) <= n; j += 4 * W)
                {
                    Tile4x2Wide<T>(ref ai, aRow, aCol, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, ((nint)i * ldc) + j), ldc, depth, accumulate);
                }
            }

            for (; j + (2 * W) <= n; j += 2 * W)
            {
                Tile4x2<T>(ref ai, aRow, aCol, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, ((nint)i * ldc) + j), ldc, depth, accumulate);
            }

            for (; j < n; j++)
            {
                for (int r = 0; r < Mr; r++)
                {
                    Scalar<T>(ref Unsafe.Add(ref ai, (nint)r * aRow), aCol, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, ((nint)(i + r) * ldc) + j), depth, accumulate);
                }
            }
        }

        for (; i < m; i++)
        {
            ref float ai = ref Unsafe.Add(ref ra, (nint)i * aRow);
            int j = 0;
            for (; j + W <= n; j += W)
            {
                Row<T>(ref ai, aCol, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, ((nint)i * ldc) + j), depth, accumulate);
            }

            for (; j < n; j++)
            {
                Scalar<T>(ref ai, aCol, ref Unsafe.Add(ref rb, j), ldb, ref Unsafe.Add(ref rc, ((nint)i * ldc) + j), depth, accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<T>(ref float a, int aRow, int aCol, ref float b, int ldb, ref float c, int ldc, int depth, bool accumulate)
        where T : struct, IStep
    {
        int w = W;
        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * (nint)ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * (nint)ldc);
        Vector256<float> s00 = Vector256<float>.Zero, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        if (accumulate)
        {
            s00 = Vector256.LoadUnsafe(ref c);
            s01 = Vector256.LoadUnsafe(ref c, (nuint)w);
            s10 = Vector256.LoadUnsafe(ref c1);
            s11 = Vector256.LoadUnsafe(ref c1, (nuint)w);
            s20 = Vector256.LoadUnsafe(ref c2);
            s21 = Vector256.LoadUnsafe(ref c2, (nuint)w);
            s30 = Vector256.LoadUnsafe(ref c3);
            s31 = Vector256.LoadUnsafe(ref c3, (nuint)w);
        }

        nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
        for (int p = 0; p < depth; p++)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref b);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref b, (nuint)w);
            Vector256<float> x = Vector256.Create(a);
            s00 = T.Step(s00, x, b0);
            s01 = T.Step(s01, x, b1);
            x = Vector256.Create(Unsafe.Add(ref a, r1));
            s10 = T.Step(s10, x, b0);
            s11 = T.Step(s11, x, b1);
            x = Vector256.Create(Unsafe.Add(ref a, r2));
            s20 = T.Step(s20, x, b0);
            s21 = T.Step(s21, x, b1);
            x = Vector256.Create(Unsafe.Add(ref a, r3));
            s30 = T.Step(s30, x, b0);
            s31 = T.Step(s31, x, b1);
            a = ref Unsafe.Add(ref a, aCol);
            b = ref Unsafe.Add(ref b, ldb);
        }

        s00.StoreUnsafe(ref c);
        s01.StoreUnsafe(ref c, (nuint)w);
        s10.StoreUnsafe(ref c1);
        s11.StoreUnsafe(ref c1, (nuint)w);
        s20.StoreUnsafe(ref c2);
        s21.StoreUnsafe(ref c2, (nuint)w);
        s30.StoreUnsafe(ref c3);
        s31.StoreUnsafe(ref c3, (nuint)w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2Wide<T>(ref float a, int aRow, int aCol, ref float b, int ldb, ref float c, int ldc, int depth, bool accumulate)
        where T : struct, IStep
    {
        int w = Vector512<float>.Count;
        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * (nint)ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * (nint)ldc);
        Vector512<float> s00 = Vector512<float>.Zero, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        if (accumulate)
        {
            s00 = Vector512.LoadUnsafe(ref c);
            s01 = Vector512.LoadUnsafe(ref c, (nuint)w);
            s10 = Vector512.LoadUnsafe(ref c1);
            s11 = Vector512.LoadUnsafe(ref c1, (nuint)w);
            s20 = Vector512.LoadUnsafe(ref c2);
            s21 = Vector512.LoadUnsafe(ref c2, (nuint)w);
            s30 = Vector512.LoadUnsafe(ref c3);
            s31 = Vector512.LoadUnsafe(ref c3, (nuint)w);
        }

        nint r1 = aRow, r2 = 2 * (nint)aRow, r3 = 3 * (nint)aRow;
        for (int p = 0; p < depth; p++)
        {
            Vector512<float> b0 = Vector512.LoadUnsafe(ref b);
            Vector512<float> b1 = Vector512.LoadUnsafe(ref b, (nuint)w);
            Vector512<float> x = Vector512.Create(a);
            s00 = T.Step(s00, x, b0);
            s01 = T.Step(s01, x, b1);
            x = Vector512.Create(Unsafe.Add(ref a, r1));
            s10 = T.Step(s10, x, b0);
            s11 = T.Step(s11, x, b1);
            x = Vector512.Create(Unsafe.Add(ref a, r2));
            s20 = T.Step(s20, x, b0);
            s21 = T.Step(s21, x, b1);
            x = Vector512.Create(Unsafe.Add(ref a, r3));
            s30 = T.Step(s30, x, b0);
            s31 = T.Step(s31, x, b1);
            a = ref Unsafe.Add(ref a, aCol);
            b = ref Unsafe.Add(ref b, ldb);
        }

        s00.StoreUnsafe(ref c);
        s01.StoreUnsafe(ref c, (nuint)w);
        s10.StoreUnsafe(ref c1);
        s11.StoreUnsafe(ref c1, (nuint)w);
        s20.StoreUnsafe(ref c2);
        s21.StoreUnsafe(ref c2, (nuint)w);
        s30.StoreUnsafe(ref c3);
        s31.StoreUnsafe(ref c3, (nuint)w);
    }

    private static void Row<T>(ref float a, int aCol, ref float b, int ldb, ref float c, int depth, bool accumulate)
        where T : struct, IStep
    {
        Vector256<float> s = accumulate ? Vector256.LoadUnsafe(ref c) : Vector256<float>.Zero;
        for (int p = 0; p < depth; p++)
        {
            s = T.Step(s, Vector256.Create(a), Vector256.LoadUnsafe(ref b));
            a = ref Unsafe.Add(ref a, aCol);
            b = ref Unsafe.Add(ref b, ldb);
        }

        s.StoreUnsafe(ref c);
    }

    private static void Scalar<T>(ref float a, int aCol, ref float b, int ldb, ref float c, int depth, bool accumulate)
        where T : struct, IStep
    {
        float s = accumulate ? c : 0f;
        for (int p = 0; p < depth; p++)
        {
            s = T.Step(s, a, b);
            a = ref Unsafe.Add(ref a, aCol);
            b = ref Unsafe.Add(ref b, ldb);
        }

        c = s;
    }
}
