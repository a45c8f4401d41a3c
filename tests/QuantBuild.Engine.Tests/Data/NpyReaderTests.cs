using System.Buffers.Binary;
using System.Text;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;

namespace QuantBuild.Engine.Tests.Data;

public class NpyReaderTests
{
    [Theory]
    [InlineData("f2", ElementType.Float16)]
    [InlineData("f4", ElementType.Float)]
    [InlineData("f8", ElementType.Double)]
    [InlineData("i1", ElementType.Int8)]
    [InlineData("u1", ElementType.UInt8)]
    [InlineData("i2", ElementType.Int16)]
    [InlineData("u2", ElementType.UInt16)]
    [InlineData("i4", ElementType.Int32)]
    [InlineData("u4", ElementType.UInt32)]
    [InlineData("i8", ElementType.Int64)]
    [InlineData("u8", ElementType.UInt64)]
    [InlineData("b1", ElementType.Bool)]
    [InlineData("c8", ElementType.Complex64)]
    [InlineData("c16", ElementType.Complex128)]
    public void Reads_each_dtype_numpy_writes(string code, ElementType expected)
    {
        DenseTensor t = NpyReader.Read(TestFiles.Fixture($"{code}_2x3x4.npy"));

        Assert.Equal(expected, t.ElementType);
        Assert.Equal([2L, 3L, 4L], t.ShapeArray());
        FixtureValues.AssertMatchesFormula(t);
    }

    [Theory]
    [InlineData("f4_v1.npy", 1)]
    [InlineData("f4_v2.npy", 2)]
    [InlineData("f4_v3.npy", 3)]
    public void Reads_every_header_version(string name, int major)
    {
        NpyHeader header = NpyReader.ReadHeader(TestFiles.Fixture(name));
        DenseTensor t = NpyReader.Read(TestFiles.Fixture(name));

        Assert.Equal(major, header.MajorVersion);
        Assert.Equal("<f4", header.Descr);
        Assert.Equal([5L, 3L], t.ShapeArray());
        FixtureValues.AssertMatchesFormula(t);
    }

    [Fact]
    public void Reads_a_0d_scalar()
    {
        DenseTensor t = NpyReader.Read(TestFiles.Fixture("scalar_f4.npy"));

        Assert.Equal(0, t.Rank);
        Assert.Equal(1, t.ElementCount);
        Assert.Equal(3.5f, t.AsSpan<float>()[0]);
    }

    [Fact]
    public void Reads_an_empty_array()
    {
        DenseTensor t = NpyReader.Read(TestFiles.Fixture("empty_0x3_i4.npy"));

        Assert.Equal([0L, 3L], t.ShapeArray());
        Assert.Equal(0, t.Data.Length);
    }

    [Fact]
    public void Reads_from_a_forward_only_stream()
    {
        using var stream = new NonSeekableStream(File.ReadAllBytes(TestFiles.Fixture("i8_2x3x4.npy")));

        DenseTensor t = NpyReader.Read(stream, "memory");

        Assert.Equal([2L, 3L, 4L], t.ShapeArray());
        FixtureValues.AssertMatchesFormula(t);
    }

    [Fact]
    public void Missing_file_is_QB1200()
    {
        string path = TestFiles.Fixture("does-not-exist.npy");

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => NpyReader.Read(path));

        Assert.Equal("QB1200", e.Code);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Bad_magic_is_QB1201()
    {
        using TempFile file = TempFile.WithBytes(Encoding.ASCII.GetBytes("id,label\n1,2\n3,4\n"), ".npy");

        AssertCode("QB1201", file.Path);
    }

    [Fact]
    public void Unknown_format_version_is_QB1202()
    {
        using TempFile file = TestFiles.Edited("f4_v1.npy", b =>
        {
            b[6] = 4;
            return b;
        });

        AssertCode("QB1202", file.Path);
    }

    [Fact]
    public void Garbled_header_is_QB1203()
    {
        using TempFile file = TestFiles.Edited("f4_v1.npy", b =>
        {
            byte[] bad = Encoding.Latin1.GetBytes("{'descr': '<f4', 'shape': (5, 3) ");
            bad.CopyTo(b, 10);
            return b;
        });

        AssertCode("QB1203", file.Path);
    }

    [Theory]
    [InlineData("unicode_u5.npy")]
    [InlineData("structured.npy")]
    public void Non_numeric_dtype_is_QB1204(string name) => AssertCode("QB1204", TestFiles.Fixture(name));

    [Fact]
    public void Big_endian_is_QB1205() => AssertCode("QB1205", TestFiles.Fixture("bigendian_i4.npy"));

    [Fact]
    public void Fortran_order_is_QB1206() => AssertCode("QB1206", TestFiles.Fixture("fortran_f4.npy"));

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(60)]
    [InlineData(170)]
    public void Truncated_file_is_QB1207(int keep)
    {
        // keep=1, 4: inside the magic; 60: inside the header text; 170: inside the data (the full file is 188 bytes).
        using TempFile file = TestFiles.Edited("f4_v1.npy", b => b[..keep]);

        AssertCode("QB1207", file.Path);
    }

    [Fact]
    public void Truncated_stream_is_QB1207()
    {
        byte[] bytes = File.ReadAllBytes(TestFiles.Fixture("f4_v2.npy"));
        using var stream = new NonSeekableStream(bytes[..^8]);

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => NpyReader.Read(stream, "memory"));

        Assert.Equal("QB1207", e.Code);
    }

    [Fact]
    public void Header_text_is_parsed_not_pattern_matched()
    {
        // Spacing, key order, a trailing comma and double quotes are all legal Python and must not matter.
        byte[] header = Encoding.Latin1.GetBytes("{ \"shape\" :(2,3,) ,'fortran_order':False,\n 'descr':'<i2' }\n");
        byte[] file = new byte[10 + header.Length + 12];
        Encoding.Latin1.GetBytes("\u0093NUMPY").CopyTo(file, 0);
        file[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), (ushort)header.Length);
        header.CopyTo(file, 10);
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(10 + header.Length + (2 * i)), (short)(i - 5));
        }

        using TempFile tmp = TempFile.WithBytes(file, ".npy");
        DenseTensor t = NpyReader.Read(tmp.Path);

        Assert.Equal(ElementType.Int16, t.ElementType);
        Assert.Equal([2L, 3L], t.ShapeArray());
        FixtureValues.AssertMatchesFormula(t);
    }

    [Fact]
    public void Error_names_the_file_and_a_fix_on_one_line()
    {
        string path = TestFiles.Fixture("fortran_f4.npy");

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => NpyReader.Read(path));
        string line = e.ToDiagnosticString();

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(e.Fix));
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith($"{path}: error QB1206:", line, StringComparison.Ordinal);
    }

    private static void AssertCode(string code, string path)
    {
        QuantBuildException e = Assert.Throws<QuantBuildException>(() => NpyReader.Read(path));
        Assert.Equal(code, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
