"""Point-in-time feature families, the snapshot dataset builder and the feature catalogue."""

from retention_ml.features.build import (FAMILIES, SnapshotDataset, build_dataset, build_features,
                                         feature_catalogue)
from retention_ml.features.caseload import CaseloadFeatures
from retention_ml.features.pay import PayFeatures
from retention_ml.features.tenure import TenureFeatures

__all__ = ["FAMILIES", "SnapshotDataset", "build_dataset", "build_features", "feature_catalogue",
           "CaseloadFeatures", "PayFeatures", "TenureFeatures"]
