using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// One external data file mapped (copy-on-write, never written back) into the address space. Tensors slice it through
/// <see cref="MappedSegment"/>, so loading a multi-gigabyte model costs address space, not memory: the OS pages
/// weights in when a pass or the encoder reads them and may drop them again under pressure. The mapping lives as
/// long as any tensor slicing it (the view's SafeHandle unmaps it when the last one is collected).
/// </summary>
internal sealed unsafe class MappedDataFile
{
    private const int MadvDontNeed = 4;

    private static readonly List<WeakReference<MappedDataFile>> Live = [];

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
        var mapped = new MappedDataFile(path, length, view, pointer);
        lock (Live)
        {
            Live.RemoveAll(w => !w.TryGetTarget(out _));
            Live.Add(new WeakReference<MappedDataFile>(mapped));
        }

        return mapped;
    }

    /// <summary>
    /// Drops this process's resident copies of every mapped page (MADV_DONTNEED; Linux only). The pages stay in the
    /// OS cache and the next read maps them back, so nothing changes but the resident size: a stage that read every
    /// weight once (the encoder) then leaves no second copy beside ONNX Runtime's sessions. Pages written through a
    /// tensor by mistake (copy-on-write) would be lost, which is why nothing may write through a tensor's bytes.
    /// </summary>
    /// <returns>The bytes of mapping advised.</returns>
    public static long ReleaseResidentPages()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        long released = 0;
        lock (Live)
        {
            foreach (WeakReference<MappedDataFile> w in Live)
            {
                if (w.TryGetTarget(out MappedDataFile? file) && file._view is not null && file._pointer is not null)
                {
                    // The view starts on a page boundary (offset 0), as madvise requires.
                    if (Madvise((nint)(file._pointer - file._view.PointerOffset), (nuint)(file.Length + file._view.PointerOffset), MadvDontNeed) == 0)
                    {
                        released += file.Length;
                    }
                }
            }
        }

        return released;
    }

    /// <summary>
    /// Drops this process's resident copies of the pages holding [offset, offset + length) (MADV_DONTNEED; Linux only),
    /// widened to whole pages: a neighbour sharing an edge page just reads it back from the file when touched.
    /// </summary>
    public void ReleasePages(long offset, long length)
    {
        if (!OperatingSystem.IsLinux() || _view is null || _pointer is null || length <= 0)
        {
            return;
        }

        long page = Environment.SystemPageSize;
        long start = (_view.PointerOffset + offset) / page * page;
        long end = Math.Min(_view.PointerOffset + Length, _view.PointerOffset + offset + length);
        byte* mapping = _pointer - _view.PointerOffset;
        Madvise((nint)(mapping + start), (nuint)(end - start), MadvDontNeed);
    }

    /// <summary>The bytes at [offset, offset + length), shared with the mapping.</summary>
    public ReadOnlyMemory<byte> Slice(long offset, int length) =>
        length == 0 ? ReadOnlyMemory<byte>.Empty : new MappedSegment(this, offset, length).Memory;

    internal byte* Pointer(long offset) => _pointer + offset;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(nint address, nuint length, int advice);

    ~MappedDataFile()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
    }
}
