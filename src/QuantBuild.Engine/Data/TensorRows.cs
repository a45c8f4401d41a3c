using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>Slicing and stacking tensors along axis 0, the sample axis.</summary>
public static class TensorRows
{
    /// <summary>A copy of rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>).</summary>
    public static DenseTensor Slice(DenseTensor tensor, long start, int count)
    {
        long rows = tensor.Shape[0];
        if (start < 0 || count < 0 || start + count > rows)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start}..{start + count} are outside 0..{rows}.");
        }

        long rowBytes = tensor.Data.Length / Math.Max(rows, 1);
        long[] shape = tensor.ShapeArray();
        shape[0] = count;
        byte[] bytes = tensor.Data.Span.Slice((int)(start * rowBytes), (int)(count * rowBytes)).ToArray();
        return new DenseTensor(tensor.ElementType, shape, bytes);
    }

    /// <summary>Stacks tensors of equal trailing shape along axis 0.</summary>
    public static DenseTensor Concat(IReadOnlyList<DenseTensor> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        long rows = 0;
        long bytes = 0;
        foreach (DenseTensor part in parts)
        {
            rows += part.Shape[0];
            bytes += part.Data.Length;
        }

        var data = new byte[bytes];
        int offset = 0;
        foreach (DenseTensor part in parts)
        {
            part.Data.Span.CopyTo(data.AsSpan(offset));
            offset += part.Data.Length;
        }

        long[] shape = parts[0].ShapeArray();
        shape[0] = rows;
        return new DenseTensor(parts[0].ElementType, shape, data);
    }
}
