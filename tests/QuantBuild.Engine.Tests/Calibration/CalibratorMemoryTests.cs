using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Data;

namespace QuantBuild.Engine.Tests.Calibration;

/// <summary>Calibration memory is one batch, whatever the number of samples, and the budget sizes that batch.</summary>
public sealed class CalibratorMemoryTests
{
    private const string FirstRelu = "/features/features.2/Relu_output_0";

    [Fact]
    public void No_batch_outlives_its_observation_however_many_samples_there_are()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = new TrackingSource(NpyDataSource.Single("input", TestFiles.Sample("calibration.npy")));

        CalibrationResult result = Calibrator.Run(model, data, new CalibrationRequest { Tensors = ["input", FirstRelu, "logits"], BatchSize = 8 });

        Assert.Equal(256, result.Samples);
        Assert.Equal(32, data.Reads);
        // Checked before each read: at most the batch just observed (still on the calibrator's stack) is alive.
        Assert.True(data.MostAlive <= 1, $"{data.MostAlive} earlier batches were still reachable");
    }

    [Fact]
    public void A_budget_sizes_batches_from_one_sample_and_changes_no_range()
    {
        OnnxModel model = DataSourceTests.SampleModel();
        using var data = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        string[] tensors = ["input", FirstRelu, "logits"];
        CalibrationResult plain = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 64 });
        // The first conv's Relu output is 32x28x28 floats (~100 KB) per sample: 1 MB holds three samples' worth.
        CalibrationResult budgeted = Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = 64, ActivationBudgetBytes = 1 << 20 });

        Assert.InRange(budgeted.BatchSize, 1, 8);
        Assert.Equal(64, plain.BatchSize);
        Assert.Equal(plain.Samples, budgeted.Samples);
        foreach (string name in tensors)
        {
            Assert.Equal(plain.Observers[name].Min, budgeted.Observers[name].Min);
            Assert.Equal(plain.Observers[name].Max, budgeted.Observers[name].Max);
            Assert.Equal(plain.Observers[name].Count, budgeted.Observers[name].Count);
        }
    }

    /// <summary>Hands out batches and, before each, counts how many earlier ones are still reachable after a full GC.</summary>
    private sealed class TrackingSource(IDataSource inner) : IDataSource
    {
        private readonly List<WeakReference<DenseTensor>> _handedOut = [];

        public int Reads { get; private set; }

        public int MostAlive { get; private set; }

        public string Description => inner.Description;

        public IReadOnlyList<string> Names => inner.Names;

        public long SampleCount => inner.SampleCount;

        public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            MostAlive = Math.Max(MostAlive, _handedOut.Count(w => w.TryGetTarget(out _)));
            IReadOnlyDictionary<string, DenseTensor> batch = inner.Read(start, count);
            if (count > 1 || start > 0)
            {
                // The Batcher's one-sample shape check at construction is not a calibration batch.
                Reads++;
                _handedOut.Add(new WeakReference<DenseTensor>(batch["input"]));
            }

            return batch;
        }

        public void Dispose() => inner.Dispose();
    }
}
