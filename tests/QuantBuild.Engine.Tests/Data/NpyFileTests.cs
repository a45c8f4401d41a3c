using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Tests.Data;

public class NpyFileTests
{
    [Fact]
    public void Header_is_available_without_reading_data()
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("rows_10x3_i4.npy"));

        Assert.Equal(ElementType.Int32, file.Header.ElementType);
        Assert.Equal([10L, 3L], file.Header.ShapeArray());
        Assert.Equal(10, file.RowCount);
        Assert.Equal(12, file.Header.RowByteCount);
        Assert.Equal(120, file.Header.DataByteCount);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(9, 1)]
    [InlineData(10, 0)]
    public void ReadRows_returns_that_slice_of_the_full_array(long start, int count)
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("rows_10x3_i4.npy"));
        DenseTensor all = file.ReadAll();

        DenseTensor rows = file.ReadRows(start, count);

        Assert.Equal([count, 3L], rows.ShapeArray());
        Assert.Equal(all.AsSpan<int>().Slice((int)start * 3, count * 3).ToArray(), rows.AsSpan<int>().ToArray());
    }

    [Fact]
    public void ReadRows_into_a_reused_buffer_covers_the_file()
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("rows_10x3_i4.npy"));
        byte[] buffer = new byte[4 * file.Header.RowByteCount];
        var seen = new List<byte>();

        for (long start = 0; start < file.RowCount; start += 4)
        {
            int count = (int)Math.Min(4, file.RowCount - start);
            int written = file.ReadRows(start, count, buffer);
            seen.AddRange(buffer.AsSpan(0, written).ToArray());
        }

        Assert.Equal(file.ReadAll().Data.ToArray(), seen.ToArray());
    }

    [Fact]
    public void Rows_past_the_end_are_QB1208()
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("rows_10x3_i4.npy"));

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => file.ReadRows(8, 3));

        Assert.Equal("QB1208", e.Code);
        Assert.Contains("10 rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scalar_has_no_rows_QB1208()
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("scalar_f4.npy"));

        Assert.Equal(0, file.RowCount);
        Assert.Equal("QB1208", Assert.Throws<QuantBuildException>(() => file.ReadRows(0, 1)).Code);
    }

    [Fact]
    public void Too_small_buffer_is_a_caller_bug()
    {
        using NpyFile file = NpyFile.Open(TestFiles.Fixture("rows_10x3_i4.npy"));

        Assert.Throws<ArgumentException>(() => file.ReadRows(0, 2, new byte[20]));
    }

    [Fact]
    public void Open_file_does_not_block_other_readers()
    {
        string path = TestFiles.Fixture("rows_10x3_i4.npy");
        using NpyFile first = NpyFile.Open(path);
        using NpyFile second = NpyFile.Open(path);

        Assert.Equal(first.ReadAll().Data.ToArray(), second.ReadAll().Data.ToArray());
    }
}
