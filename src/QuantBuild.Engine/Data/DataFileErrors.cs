using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Data;

/// <summary>
/// The QB1200–QB1249 diagnostics for calibration and evaluation data files. Kept in one place so the codes
/// stay unique and docs/errors.md can be checked against them.
/// </summary>
internal static class DataFileErrors
{
    public const string CannotOpen = "QB1200";
    public const string BadMagic = "QB1201";
    public const string UnsupportedVersion = "QB1202";
    public const string MalformedHeader = "QB1203";
    public const string UnsupportedDtype = "QB1204";
    public const string BigEndian = "QB1205";
    public const string FortranOrder = "QB1206";
    public const string Truncated = "QB1207";
    public const string RowsOutOfRange = "QB1208";
    public const string TooLarge = "QB1209";
    public const string NotRegular = "QB1210";
    public const string NotAnArchive = "QB1220";
    public const string MissingMember = "QB1221";
    public const string CorruptMember = "QB1222";

    // numpy.save writes every supported case, so "re-save with numpy.save" is the fix for most layout problems.
    private const string ResaveFix = "re-save the array with numpy.save(path, numpy.ascontiguousarray(a, dtype=a.dtype.newbyteorder('<')))";

    public static QuantBuildException CannotOpenFile(string path, Exception inner) => new(
        CannotOpen, $"Cannot open data file '{path}': {inner.Message}",
        "check the path in quantize.yaml (relative paths resolve from the yaml's folder) and that the file is readable",
        path, inner: inner);

    public static QuantBuildException NotRegularFile(string path, string why) => new(
        NotRegular, $"Cannot read data file '{path}': {why}.",
        "point quantize.yaml at a regular .npy/.npz file (not a device such as /dev/zero, a FIFO, a /proc file, or a symlink to one)",
        path);

    public static QuantBuildException OutsideFolder(string path, string folder) => new(
        NotRegular, $"Data file '{path}' is a symlink that leads outside the data folder '{folder}'.",
        "copy the file into the folder quantize.yaml names, or name its real location in quantize.yaml", path);

    public static QuantBuildException NotNpy(DataFileLocation at) => new(
        BadMagic, $"{at.Display} is not a NumPy .npy file (it does not start with \\x93NUMPY).",
        "write the array with numpy.save; other formats (CSV, pickle, raw bytes) are not read", at.FilePath);

    public static QuantBuildException Version(DataFileLocation at, int major, int minor) => new(
        UnsupportedVersion, $"{at.Display} uses .npy format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are read.",
        ResaveFix, at.FilePath);

    public static QuantBuildException Malformed(DataFileLocation at, string detail) => new(
        MalformedHeader, $"{at.Display} has a malformed .npy header: {detail}.", ResaveFix, at.FilePath);

    public static QuantBuildException Dtype(DataFileLocation at, string descr) => new(
        UnsupportedDtype, $"{at.Display} has dtype {descr}, which is not a plain numeric or bool type.",
        "convert it first, for example a.astype(numpy.float32); strings, objects, dates and structured dtypes are not read",
        at.FilePath);

    public static QuantBuildException BigEndianData(DataFileLocation at, string descr) => new(
        BigEndian, $"{at.Display} stores big-endian data (dtype {descr}).",
        "convert to little-endian: numpy.save(path, a.astype(a.dtype.newbyteorder('<')))", at.FilePath);

    public static QuantBuildException Fortran(DataFileLocation at) => new(
        FortranOrder, $"{at.Display} is stored in Fortran (column-major) order.",
        "save a C-ordered copy: numpy.save(path, numpy.ascontiguousarray(a))", at.FilePath);

    public static QuantBuildException TruncatedData(DataFileLocation at, long expected, long actual) => new(
        Truncated, $"{at.Display} is truncated: it needs {expected} bytes for its header and shape, but holds {actual}.",
        "the file was cut short (interrupted copy or download); write it again with numpy.save", at.FilePath);

    public static QuantBuildException RowRange(DataFileLocation at, long start, long count, long rows) => new(
        RowsOutOfRange, $"Rows [{start}, {start + count}) were asked of {at.Display}, which has {rows} rows along its first axis.",
        "lower the sample count in quantize.yaml to at most the number of rows, or supply a larger file", at.FilePath);

    public static QuantBuildException NoRows(DataFileLocation at) => new(
        RowsOutOfRange, $"{at.Display} holds a 0-d scalar, which has no rows to read in batches.",
        "save the samples stacked along a first (batch) axis, for example numpy.save(path, numpy.stack(samples))", at.FilePath);

    public static QuantBuildException Large(DataFileLocation at, long bytes) => new(
        TooLarge, $"{at.Display} holds {bytes} bytes of data, more than one in-memory tensor can hold.",
        "read it in row batches (it is streamed when used as calibration data), or split it into several files", at.FilePath);

    public static QuantBuildException NotZip(string path, Exception inner) => new(
        NotAnArchive, $"'{path}' is not a valid .npz (zip) archive: {inner.Message}",
        "write it with numpy.savez or numpy.savez_compressed", path, inner: inner);

    public static QuantBuildException Missing(string path, string name, IReadOnlyList<string> available) => new(
        MissingMember,
        $"'{path}' has no array named '{name}'; it holds {(available.Count == 0 ? "no arrays" : string.Join(", ", available.Select(a => $"'{a}'")))}.",
        "use one of the listed names in quantize.yaml, or save the array under that name: numpy.savez(path, name=array)",
        path);

    public static QuantBuildException Corrupt(DataFileLocation at, Exception inner) => new(
        CorruptMember, $"{at.Display} cannot be decompressed: {inner.Message}",
        "the archive is damaged; write it again with numpy.savez or numpy.savez_compressed", at.FilePath, inner: inner);
}
