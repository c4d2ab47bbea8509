"""Point-in-time feature families, the snapshot dataset builder and the feature catalogue."""

from retention_ml.features.absence_supervision import AbsenceFeatures, SupervisionFeatures
from retention_ml.features.build import (FAMILIES, SnapshotDataset, build_dataset, build_features,
                                         feature_catalogue)
from retention_ml.features.caseload import CaseloadFeatures
from retention_ml.features.commute import CommuteFeatures
from retention_ml.features.housing import HousingFeatures
from retention_ml.features.pay import PayFeatures
from retention_ml.features.team import TeamFeatures
from retention_ml.features.tenure import TenureFeatures

__all__ = ["FAMILIES", "SnapshotDataset", "build_dataset", "build_features", "feature_catalogue",
           "AbsenceFeatures", "CaseloadFeatures", "CommuteFeatures", "HousingFeatures", "PayFeatures",
           "SupervisionFeatures", "TeamFeatures", "TenureFeatures"]
