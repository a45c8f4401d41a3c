using System.IO.MemoryMappedFiles;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// One external data file mapped (copy-on-write, never written back) into the address space. Tensors slice it through
/// <see cref="MappedSegment"/>, so loading a multi-gigabyte model costs address space, not memory: the OS pages
/// weights in when a pass or the encoder reads them and may drop them again under pressure. The mapping lives as
/// long as any tensor slicing it (the view's SafeHandle unmaps it when the last one is collected).
/// </summary>
internal sealed unsafe class MappedDataFile
{
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;

    private MappedDataFile(string path, long length, MemoryMappedViewAccessor? view, byte* pointer)
    {
        Path = path;
        Length = length;
        _view = view;
        _pointer = pointer;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>The file's length when it was mapped.</summary>
    public long Length { get; }

    public static MappedDataFile Open(string path)
    {
        long length = new FileInfo(path).Length;
        if (length == 0)
        {
            // An empty file cannot be mapped; no tensor can slice it anyway.
            return new MappedDataFile(path, 0, null, null);
        }

        using var file = MemoryMappedFile.CreateFromFile(
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1), null, 0,
            MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: false);
        // Copy-on-write, not read-only: code that (wrongly) writes through a tensor's bytes gets private pages
        // instead of a crash, and the file on disk never changes either way.
        MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.CopyOnWrite);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        pointer += view.PointerOffset;
        return new MappedDataFile(path, length, view, pointer);
    }

    /// <summary>The bytes at [offset, offset + length), shared with the mapping.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, int length) =>
        length == 0 ? ReadOnlyMemory<byte>.Empty : new MappedSegment(this, offset, length).Memory;

    internal byte* Pointer(long offset) => _pointer + offset;

    ~MappedDataFile()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
    }
}
