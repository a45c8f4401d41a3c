using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Evaluation;

namespace QuantBuild.Engine.Tests.Evaluation;

public sealed class ReferenceOutputsTests
{
    private static DenseTensor Batch(int index, int rows) =>
        DenseTensor.FromFloats(Enumerable.Range(0, rows * 10).Select(i => (float)(index * 1000 + i) / 7f).ToArray(), rows, 10);

    [Fact]
    public void Past_the_threshold_batches_go_to_disk_and_come_back_bit_for_bit()
    {
        // 400 bytes per batch of 10 rows; 1 KB holds two batches.
        var outputs = new ReferenceOutputs(spillBytes: 1024);
        for (int i = 0; i < 50; i++)
        {
            outputs.Add(Batch(i, i == 49 ? 3 : 10));
        }

        Assert.Equal(50, outputs.Count);
        Assert.Equal(800, outputs.BytesInMemory);
        Assert.Equal(47 * 400 + 120, outputs.BytesOnDisk);
        for (int i = 0; i < 50; i++)
        {
            DenseTensor expected = Batch(i, i == 49 ? 3 : 10);
            Assert.Equal(expected.ShapeArray(), outputs[i].ShapeArray());
            Assert.Equal(expected.AsSpan<float>().ToArray(), outputs[i].AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public void Held_and_spilled_stores_enumerate_the_same_batches()
    {
        var held = new ReferenceOutputs();
        var spilled = new ReferenceOutputs(spillBytes: 0);
        for (int i = 0; i < 5; i++)
        {
            held.Add(Batch(i, 4));
            spilled.Add(Batch(i, 4));
        }

        Assert.Equal(0, spilled.BytesInMemory);
        Assert.Equal(held.Select(t => t.AsSpan<float>().ToArray()), spilled.Select(t => t.AsSpan<float>().ToArray()));
    }
}
