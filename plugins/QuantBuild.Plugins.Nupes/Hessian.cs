using System.Numerics.Tensors;
using QuantBuild.PassKit;

namespace QuantBuild.Plugins.Nupes;

/// <summary>H = XᵀX / n from a layer's real inputs, computed once per layer (rows of X in parallel over H's rows).</summary>
internal static class Hessian
{
    /// <summary>Columns of X kept at most (evenly spaced when there are more): the objective only needs H's shape, not every patch.</summary>
    public const int MaxRows = 32768;

    /// <summary>Multiply-adds building H may take (kept rows × length²), unless that leaves fewer than 2·length rows.</summary>
    public const long GramBudget = 1L << 36;

    /// <summary>Rows of X kept for inputs of <paramref name="length"/>: <see cref="MaxRows"/>, fewer on wide layers (8192 at 4096 inputs, never under 2·length).</summary>
    public static int RowCap(int length) => (int)Math.Min(MaxRows, Math.Max(2L * length, GramBudget / ((long)length * length)));

    /// <summary>H for a Gemm/MatMul whose input rows (the last axis, length <paramref name="length"/>) are stacked in <paramref name="x"/>.</summary>
    public static float[] FromRows(ReadOnlySpan<float> x, int length)
    {
        int rows = x.Length / length;
        int cap = RowCap(length);
        int stride = (rows + cap - 1) / cap;
        int kept = (rows + stride - 1) / stride;
        var xt = new float[length * kept];
        for (int n = 0, k = 0; n < rows; n += stride, k++)
        {
            ReadOnlySpan<float> row = x.Slice(n * length, length);
            for (int i = 0; i < length; i++)
            {
                xt[i * kept + k] = row[i];
            }
        }

        return Gram(xt, length, kept);
    }

    /// <summary>
    /// H for a group-1 Conv: the im2col patches of <paramref name="x"/> (PassKit's <see cref="ConvGeometry"/>, every
    /// padding mode), each laid out (c, ky, kx) like the weight's row, zeros where the kernel reads padding.
    /// </summary>
    public static float[] FromConv(ReadOnlySpan<float> x, ConvGeometry geometry)
    {
        int length = geometry.PatchLength;
        long patches = geometry.Positions;
        int cap = RowCap(length);
        int stride = (int)((patches + cap - 1) / cap);
        int kept = (int)((patches + stride - 1) / stride);
        var xt = new float[(long)length * kept];
        var patch = new float[length];
        for (long p = 0, k = 0; p < patches; p += stride, k++)
        {
            geometry.Patch(x, 0, p, patch);
            for (int r = 0; r < length; r++)
            {
                xt[r * kept + k] = patch[r];
            }
        }

        return Gram(xt, length, kept);
    }

    /// <summary>Rows of H computed together: each row of X is read once per block (it stays in L1 for the block's dots).</summary>
    private const int GramBlock = 16;

    // H[i, j] = xᵢ·xⱼ / count for j ≥ i, mirrored. Blocks of rows share each read of xⱼ; every entry is the same single
    // Dot, so H does not depend on the blocking or the threads.
    private static float[] Gram(float[] xt, int length, int count)
    {
        var h = new float[(long)length * length];
        Parallel.For(0, (length + GramBlock - 1) / GramBlock, b =>
        {
            int i0 = b * GramBlock, i1 = Math.Min(length, i0 + GramBlock);
            for (int j = i0; j < length; j++)
            {
                ReadOnlySpan<float> xj = xt.AsSpan(j * count, count);
                for (int i = i0; i < i1 && i <= j; i++)
                {
                    float v = TensorPrimitives.Dot(xt.AsSpan(i * count, count), xj) / count;
                    h[(long)i * length + j] = v;
                    h[(long)j * length + i] = v;
                }
            }
        });

        return h;
    }
}
