namespace QuantBuild.Abstractions.Data;

/// <summary>The base class for a data reader with typed options; override <see cref="Name"/> and <see cref="Open(DataReaderRequest, TOptions)"/>.</summary>
/// <typeparam name="TOptions">The class the reader's <c>options</c> bind to (<c>NoPassOptions</c> for none).</typeparam>
public abstract class DataReader<TOptions> : IDataReader
    where TOptions : class, new()
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public Type OptionsType => typeof(TOptions);

    /// <summary>Opens the data with the bound options.</summary>
    public abstract IDataSource Open(DataReaderRequest request, TOptions options);

    IDataSource IDataReader.Open(DataReaderRequest request, object options) => Open(request, (TOptions)options);
}
