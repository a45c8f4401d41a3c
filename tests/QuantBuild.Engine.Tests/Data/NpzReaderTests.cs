using System.Buffers.Binary;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Tests.Data;

public class NpzReaderTests
{
    [Fact]
    public void Lists_and_reads_deflated_members()
    {
        using NpzReader npz = NpzReader.Open(TestFiles.Fixture("deflated.npz"));

        Assert.Equal(["images", "labels"], npz.ArrayNames);
        DenseTensor images = npz.Read("images");
        DenseTensor labels = npz.Read("labels.npy");

        Assert.Equal(ElementType.Float, images.ElementType);
        Assert.Equal([4L, 1L, 2L, 2L], images.ShapeArray());
        FixtureValues.AssertMatchesFormula(images);
        Assert.Equal(ElementType.Int64, labels.ElementType);
        Assert.Equal([4L], labels.ShapeArray());
        FixtureValues.AssertMatchesFormula(labels);
    }

    [Fact]
    public void Reads_stored_members_including_a_scalar()
    {
        using NpzReader npz = NpzReader.Open(TestFiles.Fixture("stored.npz"));

        DenseTensor a = npz.Read("a");
        DenseTensor b = npz.Read("b");

        Assert.Equal([3L, 2L], a.ShapeArray());
        FixtureValues.AssertMatchesFormula(a);
        Assert.Equal(0, b.Rank);
        Assert.Equal((short)7, b.AsSpan<short>()[0]);
        Assert.Equal([3L, 2L], npz.ReadHeader("a").ShapeArray());
        Assert.True(npz.Contains("b"));
        Assert.False(npz.Contains("c"));
    }

    [Fact]
    public void Missing_member_is_QB1221_and_lists_what_is_there()
    {
        string path = TestFiles.Fixture("deflated.npz");
        using NpzReader npz = NpzReader.Open(path);

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => npz.Read("calibration"));

        Assert.Equal("QB1221", e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("'images', 'labels'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_a_zip_is_QB1220()
    {
        string path = TestFiles.Fixture("f4_v1.npy");

        Assert.Equal("QB1220", Assert.Throws<QuantBuildException>(() => NpzReader.Open(path)).Code);
    }

    [Fact]
    public void Missing_archive_is_QB1200()
    {
        Assert.Equal("QB1200", Assert.Throws<QuantBuildException>(() => NpzReader.Open(TestFiles.Fixture("nope.npz"))).Code);
    }

    [Fact]
    public void Corrupt_deflate_data_is_QB1222()
    {
        using TempFile file = TestFiles.Edited("deflated.npz", b =>
        {
            // First local file header: name and extra lengths at 26 and 28, data after. A first deflate byte of
            // 0xFF declares block type 3, which does not exist, so inflating must fail.
            int dataStart = 30 + BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(28));
            b[dataStart] = 0xFF;
            return b;
        }, ".npz");
        using NpzReader npz = NpzReader.Open(file.Path);

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => npz.Read("images"));

        Assert.Equal("QB1222", e.Code);
        Assert.Contains("images.npy", e.Message, StringComparison.Ordinal);
    }
}
