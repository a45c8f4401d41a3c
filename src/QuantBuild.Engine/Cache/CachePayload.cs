using System.Buffers.Binary;
using System.Security.Cryptography;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// One cache entry as one object in a remote store: <c>QBCACHE2</c>, the length of entry.json (int32, little endian),
/// entry.json as the local cache writes it, then the model file and each external-data file in entry.json's order.
/// One object, so one conditional commit makes the whole entry visible at once. The digest recorded beside it is the
/// SHA-256 of entry.json, which holds every file's size and SHA-256: the reader checks the one against the other and
/// each file as it arrives, so nothing is hashed twice and nothing is held in memory (<see cref="Open"/> streams the
/// files out, <see cref="Sink"/> writes them into an entry folder).
/// </summary>
public static class CachePayload
{
    private static readonly byte[] Magic = "QBCACHE2"u8.ToArray();

    /// <summary>The digest recorded beside <paramref name="entry"/>'s object.</summary>
    public static string Sha256(CacheEntry entry) => CacheKey.Hex(SHA256.HashData(ResultCache.EntryJson(entry)));

    /// <summary>The payload's size.</summary>
    public static long Length(CacheEntry entry) => Magic.Length + 4 + ResultCache.EntryJson(entry).Length + entry.FileBytes;

    /// <summary>The payload of <paramref name="entry"/> as a stream read from its files.</summary>
    public static Stream Open(CacheEntry entry)
    {
        byte[] json = ResultCache.EntryJson(entry);
        var header = new byte[Magic.Length + 4 + json.Length];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(Magic.Length), json.Length);
        json.CopyTo(header, Magic.Length + 4);
        return new Source(header, entry.Data.Select(entry.PathOf).Prepend(entry.ModelPath).ToList());
    }

    /// <summary>A write-only stream that unpacks a payload for <paramref name="key"/> into <paramref name="folder"/> (created), checking as it goes.</summary>
    public static Sink Unpack(string key, string folder) => new(key, folder);

    /// <summary>Reads the header, then each file in turn.</summary>
    private sealed class Source(byte[] header, IReadOnlyList<string> files) : Stream
    {
        private int _headerRead;
        private int _file = -1;
        private FileStream? _current;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.Length == 0)
            {
                return 0;
            }

            if (_headerRead < header.Length)
            {
                int n = Math.Min(buffer.Length, header.Length - _headerRead);
                header.AsSpan(_headerRead, n).CopyTo(buffer);
                _headerRead += n;
                return n;
            }

            while (true)
            {
                if (_current is null)
                {
                    if (++_file >= files.Count)
                    {
                        return 0;
                    }

                    _current = new FileStream(files[_file], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                }

                int read = _current.Read(buffer);
                if (read > 0)
                {
                    return read;
                }

                _current.Dispose();
                _current = null;
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _current?.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// Unpacks a payload into an entry folder as it is downloaded: entry.json first (its files' sizes say where each
    /// file ends), then each file, hashed as it is written. A payload that breaks the layout is not an error here (the
    /// rest is discarded); <see cref="Finish"/> says what was wrong.
    /// </summary>
    public sealed class Sink : Stream
    {
        private readonly string _key;
        private readonly string _folder;
        private readonly byte[] _head = new byte[12];
        private int _headRead;
        private byte[]? _json;
        private int _jsonRead;
        private CacheEntry? _entry;
        private List<(string Path, long Bytes, string Sha256)>? _files;
        private int _file;
        private long _fileWritten;
        private FileStream? _current;
        private IncrementalHash? _hash;
        private long _extra;

        internal Sink(string key, string folder)
        {
            _key = key;
            _folder = folder;
            Directory.CreateDirectory(folder);
        }

        /// <summary>What was wrong with the payload, once it was; null while it is fine.</summary>
        public string? Problem { get; private set; }

        /// <inheritdoc />
        public override bool CanRead => false;

        /// <inheritdoc />
        public override bool CanSeek => false;

        /// <inheritdoc />
        public override bool CanWrite => true;

        /// <inheritdoc />
        public override long Length => throw new NotSupportedException();

        /// <inheritdoc />
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>
        /// Ends the payload: checks it was whole, that entry.json's SHA-256 is <paramref name="recordedSha256"/> (the digest
        /// recorded beside the object) and every file's, then writes entry.json into the folder.
        /// </summary>
        /// <returns>The entry in the folder, or null with <see cref="Problem"/> saying what was wrong.</returns>
        public CacheEntry? Finish(string? recordedSha256)
        {
            CloseFile();
            if (Problem is null && recordedSha256 is null)
            {
                Problem = "it has no recorded sha256";
            }

            if (Problem is null && (_entry is null || _file < _files!.Count || _extra > 0))
            {
                Problem = _entry is null ? "it ends before its entry.json" : _extra > 0 ? "it has bytes past its last file" : "it ends before its last file";
            }

            if (Problem is null && !string.Equals(CacheKey.Hex(SHA256.HashData(_json!)), recordedSha256, StringComparison.OrdinalIgnoreCase))
            {
                Problem = $"its entry.json's sha256 is not the {recordedSha256![..Math.Min(12, recordedSha256!.Length)]}… the writer recorded";
            }

            if (Problem is not null)
            {
                return null;
            }

            using (var stream = new FileStream(Path.Combine(_folder, "entry.json"), FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(_json);
                stream.Flush(flushToDisk: true);
            }

            return _entry;
        }

        /// <inheritdoc />
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        /// <inheritdoc />
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0 && Problem is null)
            {
                if (_headRead < _head.Length)
                {
                    int n = Math.Min(buffer.Length, _head.Length - _headRead);
                    buffer[..n].CopyTo(_head.AsSpan(_headRead));
                    _headRead += n;
                    buffer = buffer[n..];
                    if (_headRead == _head.Length)
                    {
                        int length = BinaryPrimitives.ReadInt32LittleEndian(_head.AsSpan(Magic.Length));
                        if (!_head.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                        {
                            Problem = "it is not a QuantBuild cache entry of this version";
                        }
                        else if (length is <= 0 or > 64 << 20)
                        {
                            Problem = "its entry.json length is out of range";
                        }
                        else
                        {
                            _json = new byte[length];
                        }
                    }
                }
                else if (_jsonRead < _json!.Length)
                {
                    int n = Math.Min(buffer.Length, _json.Length - _jsonRead);
                    buffer[..n].CopyTo(_json.AsSpan(_jsonRead));
                    _jsonRead += n;
                    buffer = buffer[n..];
                    if (_jsonRead == _json.Length)
                    {
                        StartFiles();
                    }
                }
                else if (_file >= _files!.Count)
                {
                    _extra += buffer.Length;
                    return;
                }
                else
                {
                    (string path, long bytes, _) = _files[_file];
                    _current ??= new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                    _hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    int n = (int)Math.Min(buffer.Length, bytes - _fileWritten);
                    _current.Write(buffer[..n]);
                    _hash.AppendData(buffer[..n]);
                    _fileWritten += n;
                    buffer = buffer[n..];
                    if (_fileWritten == bytes)
                    {
                        CloseFile();
                    }
                }
            }
        }

        /// <inheritdoc />
        public override void Flush()
        {
        }

        /// <inheritdoc />
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        /// <inheritdoc />
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        /// <inheritdoc />
        public override void SetLength(long value) => throw new NotSupportedException();

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            _current?.Dispose();
            _hash?.Dispose();
            base.Dispose(disposing);
        }

        private void StartFiles()
        {
            _entry = ResultCache.ParseEntry(_key, _json, _folder);
            if (_entry is null)
            {
                Problem = "its entry.json does not describe an entry for its key";
                return;
            }

            _files = _entry.Data.Select(d => (_entry.PathOf(d), d.Bytes, d.Sha256)).Prepend((_entry.ModelPath, _entry.ModelBytes, _entry.ModelSha256)).ToList();
            SkipEmpty();
        }

        // A file of zero bytes is complete before any byte of it arrives.
        private void SkipEmpty()
        {
            while (_file < _files!.Count && _files[_file].Bytes == 0 && Problem is null)
            {
                _current = new FileStream(_files[_file].Path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                CloseFile();
            }
        }

        private void CloseFile()
        {
            if (_current is null)
            {
                return;
            }

            _current.Flush(flushToDisk: true);
            _current.Dispose();
            _current = null;
            string sha = CacheKey.Hex(_hash!.GetHashAndReset());
            _hash.Dispose();
            _hash = null;
            bool whole = _fileWritten == _files![_file].Bytes;
            if (whole && sha != _files[_file].Sha256)
            {
                Problem = $"{Path.GetFileName(_files[_file].Path)}'s sha256 is {sha[..12]}…, its entry.json records {_files[_file].Sha256[..12]}…";
            }

            if (!whole)
            {
                return;
            }

            _file++;
            _fileWritten = 0;
            SkipEmpty();
        }
    }
}
