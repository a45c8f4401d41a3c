using System.Buffers;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Tests.Support;

namespace QuantBuild.Onnx.Tests;

public sealed class AtomicSaveTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_save_that_fails_midway_leaves_the_existing_model_untouched_and_no_temp_files(bool external)
    {
        string path = _temp.File("model.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(5000), path, new OnnxSaveOptions { UseExternalData = external });
        string[] filesBefore = _temp.FileNames();
        Dictionary<string, byte[]> before = filesBefore.ToDictionary(f => f, f => File.ReadAllBytes(_temp.File(f)));

        OnnxModel failing = ModelBuilder.WithWeights(10, 5000);
        failing.Graph.Initializers[1].Data = new FailingMemory(20000).Memory;

        var error = Assert.Throws<QuantBuildException>(() => OnnxModelSaver.Save(failing, path, new OnnxSaveOptions { UseExternalData = external }));

        Assert.Equal("QB1109", error.Code);
        Assert.Equal(filesBefore, _temp.FileNames());
        foreach ((string name, byte[] bytes) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(_temp.File(name)));
        }
    }

    [Fact]
    public void Saving_over_the_file_the_model_was_loaded_from_works()
    {
        string path = _temp.File("model.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(3000), path, new OnnxSaveOptions { UseExternalData = true });
        OnnxModel loaded = OnnxModelLoader.Load(path);

        OnnxModelSaver.Save(loaded, path, new OnnxSaveOptions { UseExternalData = true });

        Assert.Empty(IrComparer.Differences(loaded, OnnxModelLoader.Load(path)));
        Assert.Equal(["model.onnx", "model.onnx.data"], _temp.FileNames());
    }

    [Fact]
    public void Saving_into_a_missing_folder_is_QB1109()
    {
        string path = Path.Combine(_temp.Path, "no", "such", "model.onnx");
        var error = Assert.Throws<QuantBuildException>(() => OnnxModelSaver.Save(ModelBuilder.WithWeights(4), path));
        Assert.Equal("QB1109", error.Code);
        Assert.Empty(_temp.FileNames());
    }

    /// <summary>Tensor bytes that fail when read, like a disk or a memory-mapped file going away mid-save.</summary>
    private sealed class FailingMemory(int length) : MemoryManager<byte>
    {
        public override Memory<byte> Memory => CreateMemory(length);

        public override Span<byte> GetSpan() => throw new IOException("simulated failure while reading tensor bytes");

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
