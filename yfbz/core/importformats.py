"""The admin's import formats (django-import-export): xlsx and CSV only, each file checked like every
other upload (yfbz.core.uploads.check_data: type by the bytes, size, hostile spreadsheets) before
tablib reads it. Named in settings.IMPORT_FORMATS."""

from import_export.formats import base_formats


class CheckedCSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs):
        from .uploads import check_data

        raw = in_stream if isinstance(in_stream, bytes) else in_stream.encode("utf-8")
        check_data("导入文件", raw, "reference")
        return super().create_dataset(in_stream, **kwargs)


class CheckedXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream, **kwargs):
        from .uploads import check_data

        check_data("导入文件", in_stream, "reference", allow_csv=False)
        return super().create_dataset(in_stream, **kwargs)


class HeaderCheckedResource:
    """Mix into a ModelResource: a file without the key columns is refused in Chinese, naming the
    columns expected and the ones found, before any row is looked at."""

    def before_import(self, dataset, **kwargs):
        headers = [str(h).strip() for h in (dataset.headers or [])]
        wanted = [self.fields[f].column_name for f in self._meta.import_id_fields if f in self.fields]
        missing = [c for c in wanted if c not in headers]
        if missing:
            expected = "、".join(f.column_name for f in self.get_import_fields())
            raise ValueError(f"文件缺少列：{'、'.join(missing)}。应有的列：{expected}；文件中的列：{'、'.join(h for h in headers if h) or '（无）'}")
        return super().before_import(dataset, **kwargs)
