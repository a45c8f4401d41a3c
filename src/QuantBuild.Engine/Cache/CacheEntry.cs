using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// One verified cache entry as files: the model and the external-data files it references (each's size and SHA-256
/// checked against entry.json), and the summary the run produced. Nothing of it is held in memory: a hit copies or
/// hard-links the files into place, an upload streams them.
/// </summary>
/// <param name="Key">The content address.</param>
/// <param name="Folder">The folder holding the files (an entry folder of the local cache).</param>
/// <param name="ModelFile">The model's file name in <paramref name="Folder"/>.</param>
/// <param name="ModelSha256">The model file's SHA-256.</param>
/// <param name="ModelBytes">Its size.</param>
/// <param name="Data">The external-data files, by the name the model references them by, in ordinal order.</param>
/// <param name="Result">The target's summary, without paths.</param>
public sealed record CacheEntry(string Key, string Folder, string ModelFile, string ModelSha256, long ModelBytes, IReadOnlyList<CacheFile> Data, TargetResult Result)
{
    /// <summary>The model file.</summary>
    public string ModelPath => Path.Combine(Folder, ModelFile);

    /// <summary>Where <paramref name="file"/>'s bytes are.</summary>
    public string PathOf(CacheFile file) => Path.Combine(Folder, file.Name);

    /// <summary>The model and its data files' sizes together.</summary>
    public long FileBytes => ModelBytes + Data.Sum(d => d.Bytes);
}

/// <summary>One external-data file of a cache entry.</summary>
/// <param name="Name">Its file name, as the model's <c>location</c> fields name it (a plain name, no folder).</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">Its SHA-256, lower-case hex.</param>
public sealed record CacheFile(string Name, long Bytes, string Sha256);
