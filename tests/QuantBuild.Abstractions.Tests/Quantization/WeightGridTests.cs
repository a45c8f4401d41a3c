using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Tests.Quantization;

public sealed class WeightGridTests
{
    [Theory]
    [InlineData(8, false, -128, 127, 127)]
    [InlineData(8, true, -64, 63, 63)]
    [InlineData(4, false, -8, 7, 7)]
    [InlineData(2, false, -2, 1, 1)]
    public void Signed_grids_span_twos_complement_with_one_bit_fewer_when_reduced(int bits, bool reduce, int qmin, int qmax, int symmetric)
    {
        WeightGrid grid = WeightGrid.Signed(bits, reduce);

        Assert.Equal((bits, qmin, qmax, symmetric), (grid.Bits, grid.QMin, grid.QMax, grid.SymmetricMax));
        Assert.True(grid.IsSigned);
    }

    [Fact]
    public void A_reduce_range_device_keeps_8_bit_weights_to_7_bits_and_lower_widths_whole()
    {
        DeviceProfile avx2 = Device(reduceRange: true), vnni = Device(reduceRange: false);

        Assert.Equal(63, WeightGrid.For(avx2, 8).SymmetricMax);
        Assert.Equal(127, WeightGrid.For(vnni, 8).SymmetricMax);
        Assert.Equal(WeightGrid.Signed(4), WeightGrid.For(avx2, 4));
        Assert.Equal((0, 255, 127), (WeightGrid.Unsigned(8).QMin, WeightGrid.Unsigned(8).QMax, WeightGrid.Unsigned(8).SymmetricMax));
        Assert.Equal(127, WeightGrid.Unsigned(8, reduceRange: true).QMax);
    }

    [Fact]
    public void Quantize_rounds_half_to_even_and_clamps_into_the_grid()
    {
        WeightGrid grid = WeightGrid.Signed(8, reduceRange: true);

        Assert.Equal(2, grid.Quantize(2.5f, 1f));
        Assert.Equal(-4, grid.Quantize(-3.5f, 1f));
        Assert.Equal(63, grid.Quantize(1e30f, 1f));
        Assert.Equal(-64, grid.Quantize(float.NegativeInfinity, 1f));
        Assert.Equal(5, WeightGrid.Unsigned(4).Quantize(0f, 0f, zeroPoint: 5));
    }

    private static DeviceProfile Device(bool reduceRange) => new()
    {
        Name = "test",
        Description = "test",
        Kernels = new DeviceKernels
        {
            ActivationType = ElementType.UInt8, SymmetricActivations = false, PerChannelWeights = true, ReduceRange = reduceRange,
            WeightBits = [4, 8], IntegerOps = new HashSet<string>(),
        },
        Deployment = new DeviceDeployment { RuntimeIdentifiers = [], SessionConfig = new Dictionary<string, string>() },
    };
}
