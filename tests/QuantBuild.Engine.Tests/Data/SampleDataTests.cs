using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>Reads the real Fashion-MNIST sample data the end-to-end flow calibrates and evaluates on.</summary>
public class SampleDataTests
{
    // (0 - 0.2860) / 0.3530 and (1 - 0.2860) / 0.3530: the normalised range of a pixel.
    private const float MinPixel = -0.8102f;
    private const float MaxPixel = 2.0227f;

    [Theory]
    [InlineData("calibration.npy", 256)]
    [InlineData("eval_images.npy", 2000)]
    public void Images_are_normalised_float_batches(string name, long rows)
    {
        DenseTensor t = NpyReader.Read(TestFiles.Sample(name));

        Assert.Equal(ElementType.Float, t.ElementType);
        Assert.Equal([rows, 1L, 28L, 28L], t.ShapeArray());
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in t.AsSpan<float>())
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        Assert.InRange(min, MinPixel - 1e-3f, MinPixel + 1e-3f);
        Assert.InRange(max, MaxPixel - 1e-3f, MaxPixel + 1e-3f);
    }

    [Fact]
    public void Labels_are_ten_classes()
    {
        DenseTensor t = NpyReader.Read(TestFiles.Sample("eval_labels.npy"));

        Assert.Equal(ElementType.Int64, t.ElementType);
        Assert.Equal([2000L], t.ShapeArray());
        var counts = new int[10];
        foreach (long label in t.AsSpan<long>())
        {
            Assert.InRange(label, 0, 9);
            counts[label]++;
        }

        Assert.All(counts, c => Assert.True(c > 100, "every class should be well represented in 2000 test images"));
    }

    [Theory]
    [InlineData("calibration.npy", 64)]
    [InlineData("eval_images.npy", 300)]
    public void Streaming_batches_equal_the_full_read(string name, int batch)
    {
        string path = TestFiles.Sample(name);
        byte[] full = NpyReader.Read(path).Data.ToArray();
        using NpyFile file = NpyFile.Open(path);
        byte[] buffer = new byte[batch * file.Header.RowByteCount];
        long offset = 0;

        for (long start = 0; start < file.RowCount; start += batch)
        {
            int count = (int)Math.Min(batch, file.RowCount - start);
            int written = file.ReadRows(start, count, buffer);
            Assert.True(buffer.AsSpan(0, written).SequenceEqual(full.AsSpan((int)offset, written)), $"rows from {start} differ");
            offset += written;
        }

        Assert.Equal(full.Length, offset);
    }
}
